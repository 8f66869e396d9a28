"""Stored lifecycle policies, their previews, and the runs that expire and archive images.

A policy runs by itself, as in ECR: `run_due(now)` evaluates every policy whose next run has come
and applies the result. The server and `mock_ecr` call it before each request, so with the
default interval of 24 hours an image that meets a rule is acted on at most a day (on the
emulator's clock) after it does, and with an interval of zero at the next request. Every
decision comes from `lifecycle.evaluate`; previews store its result once and page through it.
"""

import dataclasses
import datetime
import functools
import logging

from ecr_emulator.api.errors import (
    InvalidParameterException,
    LifecyclePolicyNotFoundException,
    LifecyclePolicyPreviewNotFoundException,
)
from ecr_emulator.backend import lifecycle, runtime
from ecr_emulator.backend.images import ACTIVATING, Repository
from ecr_emulator.backend.registry import Registry, registries
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock, events

LOG = logging.getLogger(__name__)

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@dataclasses.dataclass
class StoredPolicy:
    text: str
    policy: lifecycle.LifecyclePolicy
    next_run_at: datetime.datetime
    last_evaluated_at: datetime.datetime = EPOCH


@dataclasses.dataclass
class Preview:
    text: str
    status: str
    actions: list[lifecycle.LifecycleAction]

    @functools.cached_property
    def expiring_count(self) -> int:
        return sum(1 for action in self.actions if action.action == "EXPIRE")

    @functools.cached_property
    def transitioning_counts(self) -> dict[str, int]:
        """Images that would transition, by target storage class."""
        counts: dict[str, int] = {}
        for action in self.actions:
            if action.action == "TRANSITION":
                counts[action.target_storage_class] = counts.get(action.target_storage_class, 0) + 1
        return counts


@dataclasses.dataclass
class LifecycleState:
    policies: dict[str, StoredPolicy] = dataclasses.field(default_factory=dict)
    previews: dict[str, Preview] = dataclasses.field(default_factory=dict)


def state_of(registry: Registry) -> LifecycleState:
    return registry.feature_state("lifecycle", LifecycleState)


def parse(text: str) -> lifecycle.LifecyclePolicy:
    """Validate policy text, raising InvalidParameterException with ECR's message."""
    try:
        return lifecycle.parse_policy(text)
    except lifecycle.LifecyclePolicyError as error:
        raise InvalidParameterException(lifecycle.format_error(error.detail)) from None


def put_policy(registry: Registry, repository_name: str, text: str) -> StoredPolicy:
    registry.get_repository(repository_name)
    policy = parse(text)
    global _next_due_at
    stored = StoredPolicy(text, policy, next_run_at=clock.now() + runtime.current().lifecycle_interval)
    with STATE_LOCK:
        state_of(registry).policies[repository_name] = stored
        if _next_due_at is None or stored.next_run_at < _next_due_at:
            _next_due_at = stored.next_run_at
    return stored


def get_policy(registry: Registry, repository_name: str) -> StoredPolicy:
    registry.get_repository(repository_name)
    stored = state_of(registry).policies.get(repository_name)
    if stored is None:
        raise LifecyclePolicyNotFoundException(
            f"Lifecycle policy does not exist for the repository with name '{repository_name}' "
            f"in the registry with id '{registry.account_id}'"
        )
    return stored


def delete_policy(registry: Registry, repository_name: str) -> StoredPolicy:
    with STATE_LOCK:
        stored = get_policy(registry, repository_name)
        del state_of(registry).policies[repository_name]
    return stored


def start_preview(registry: Registry, repository_name: str, text: str | None) -> Preview:
    """Evaluate a policy (the given text, or the stored one) without acting, and keep the result."""
    if text is None:
        text = get_policy(registry, repository_name).text
        policy = state_of(registry).policies[repository_name].policy
    else:
        registry.get_repository(repository_name)
        policy = parse(text)
    with STATE_LOCK:
        repository = registry.get_repository(repository_name)
        actions = lifecycle.evaluate(lifecycle_images(repository), policy, clock.now())
        # Evaluation finishes before the call returns, so the preview is complete when first read.
        preview = Preview(text=text, status="COMPLETE", actions=actions)
        state_of(registry).previews[repository_name] = preview
    return preview


def get_preview(registry: Registry, repository_name: str) -> Preview:
    registry.get_repository(repository_name)
    preview = state_of(registry).previews.get(repository_name)
    if preview is None:
        raise LifecyclePolicyPreviewNotFoundException(
            f"There is no preview of a lifecycle policy for the repository with name '{repository_name}' "
            f"in the registry with id '{registry.account_id}'"
        )
    return preview


def lifecycle_images(repository: Repository) -> list[lifecycle.LifecycleImage]:
    """Describe a repository's images as the evaluator reads them."""
    parents: dict[str, set[str]] = {}
    for image in repository.images.values():
        for child in image.child_digests:
            parents.setdefault(child, set()).add(image.digest)
    images = []
    for image in repository.images.values():
        status = image.status
        if status == ACTIVATING:
            continue
        images.append(
            lifecycle.LifecycleImage(
                digest=image.digest,
                tags=tuple(image.tags),
                pushed_at=image.pushed_at,
                last_pulled_at=image.last_pulled_at,
                last_archived_at=image.last_archived_at,
                last_activated_at=image.last_activated_at,
                status=status,
                parent_digests=frozenset(parents.get(image.digest, ())),
                subject_digest=image.subject_digest,
            )
        )
    return images


def run_policy(registry: Registry, repository_name: str, now: datetime.datetime | None = None) -> list[lifecycle.LifecycleAction]:
    """Evaluate one stored policy and expire or archive the images it selects; return the actions."""
    now = now or clock.now()
    with STATE_LOCK:
        stored = get_policy(registry, repository_name)
        repository = registry.get_repository(repository_name)
        actions = lifecycle.evaluate(lifecycle_images(repository), stored.policy, now)
        expired = [action for action in actions if action.action == "EXPIRE"]
        for action in actions:
            if action.action == "TRANSITION" and repository.images.get(action.digest) is not None:
                repository.images[action.digest].archive()
                LOG.info(
                    "lifecycle rule %d of %s/%s/%s archived image %s",
                    action.rule_priority, registry.account_id, registry.region_name, repository_name, action.digest,
                )
        removed = registry.expire_images(repository_name, [action.digest for action in expired])
        stored.last_evaluated_at = now
        stored.next_run_at = now + runtime.current().lifecycle_interval
    for action in expired:
        if action.digest in removed:
            LOG.info(
                "lifecycle rule %d of %s/%s/%s expired image %s (tags %s)",
                action.rule_priority, registry.account_id, registry.region_name, repository_name, action.digest,
                ", ".join(action.tags) or "none",
            )
    return actions


# The earliest next run of any stored policy, or None when there is none: run_due, which every
# request calls, returns at once until then.
_next_due_at: datetime.datetime | None = None


def run_due(now: datetime.datetime | None = None, force: bool = False) -> int:
    """Run every stored policy whose next run has come (every policy with `force`); return how many ran."""
    now = now or clock.now()
    if not force and (_next_due_at is None or now < _next_due_at):
        return 0
    due = []
    for _, _, registry in registries.items():
        for repository_name, stored in list(state_of(registry).policies.items()):
            if force or stored.next_run_at <= now:
                due.append((registry, repository_name))
    for registry, repository_name in due:
        try:
            run_policy(registry, repository_name, now)
        except Exception:
            LOG.exception("lifecycle run of %s/%s/%s failed", registry.account_id, registry.region_name, repository_name)
    reschedule()
    return len(due)


def reschedule() -> None:
    """Recompute when the next policy is due, after runs or after state was loaded or reset."""
    global _next_due_at
    runs = [stored.next_run_at for _, _, registry in registries.items() for stored in state_of(registry).policies.values()]
    _next_due_at = min(runs, default=None)


def _forget_repository(event: events.RepositoryDeleted) -> None:
    registry = registries.get(event.account_id, event.region)
    state = state_of(registry)
    state.policies.pop(event.repository_name, None)
    state.previews.pop(event.repository_name, None)


events.subscribe(events.RepositoryDeleted, _forget_repository)

