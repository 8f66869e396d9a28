"""Replication settings of one registry: the replication configuration, image replication statuses and
replication backfills.

This module stores and validates what the replication operations set, and returns which
destinations a repository replicates to. Copying images to a destination is the replication
engine's work: it reads `replication_destinations()` and reports each copy through
`record_replication_status()` and, for a backfill, `record_backfill_result()`. Until that engine
exists no image is copied, so an image has no replication statuses and a backfill with qualifying
images stays IN_PROGRESS until it is stopped.
"""

import copy
import dataclasses
import datetime
import logging
import uuid

from ecr_emulator.api.errors import (
    InvalidParameterException,
    LimitExceededException,
    ReplicationBackfillInProgressException,
    ReplicationBackfillInvalidStatusException,
    ReplicationBackfillNotFoundException,
    ValidationException,
)
from ecr_emulator.backend import image_state
from ecr_emulator.backend.images import ACTIVE
from ecr_emulator.backend.registry import Registry
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock, events

LOG = logging.getLogger(__name__)

# The user guide's replication page: up to 25 unique destinations across all rules. The model caps
# the rules of one configuration at 25, and the request parser enforces that.
MAX_UNIQUE_DESTINATIONS = 25

# ReplicationStatus values of the model.
IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"

# ReplicationBackfillStatus values, from the model and the user guide's replication backfill page.
BACKFILL_PREPARING = "PREPARING"
BACKFILL_IN_PROGRESS = "IN_PROGRESS"
BACKFILL_COMPLETE = "COMPLETE"
BACKFILL_FAILED = "FAILED"
BACKFILL_STOPPING = "STOPPING"
BACKFILL_STOPPED = "STOPPED"
BACKFILL_RUNNING = (BACKFILL_PREPARING, BACKFILL_IN_PROGRESS, BACKFILL_STOPPING)
BACKFILL_STOPPABLE = (BACKFILL_PREPARING, BACKFILL_IN_PROGRESS)
BACKFILL_TERMINAL = (BACKFILL_COMPLETE, BACKFILL_FAILED, BACKFILL_STOPPED)

# StartReplicationBackfill: at most 10 backfills in progress per registry.
MAX_BACKFILLS_IN_PROGRESS = 10
# ListReplicationBackfills: terminal backfills are returned for 90 days after they end.
BACKFILL_RETENTION = datetime.timedelta(days=90)
# A backfill fails once at least 100 replications were processed and at least half of them failed.
BACKFILL_FAILURE_MINIMUM = 100


@dataclasses.dataclass
class Backfill:
    """One replication backfill and the replications it plans: one per image and tag."""

    id: str
    destination: dict
    started_at: datetime.datetime
    # (repository name, image digest, image tag or None) for each planned replication
    planned: list[tuple[str, str, str | None]]
    status: str = BACKFILL_IN_PROGRESS
    ended_at: datetime.datetime | None = None
    failure_code: str | None = None
    # ReplicationBackfillResult dicts in the order the replications finished
    results: list[dict] = dataclasses.field(default_factory=list)

    def progress(self) -> dict:
        failed = [result for result in self.results if result["status"] == FAILED]
        return {
            "totalReplicationCount": len(self.planned),
            "completedReplicationCount": len(self.results) - len(failed),
            "failedReplicationCount": len(failed),
            "failureCodes": sorted({result["failureCode"] for result in failed if result.get("failureCode")}),
        }

    def summary(self) -> dict:
        """Describe the backfill as a ReplicationBackfillSummary."""
        return {
            "replicationBackfillId": self.id,
            "destination": dict(self.destination),
            "status": self.status,
            "failureCode": self.failure_code,
            "progress": self.progress(),
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
        }


@dataclasses.dataclass
class ReplicationState:
    configuration: dict = dataclasses.field(default_factory=lambda: {"rules": []})
    # (repository name, image digest) -> ImageReplicationStatus dicts, one per destination
    statuses: dict[tuple[str, str], list[dict]] = dataclasses.field(default_factory=dict)
    # backfill id -> backfill, in start order
    backfills: dict[str, Backfill] = dataclasses.field(default_factory=dict)


def state_of(registry: Registry) -> ReplicationState:
    return registry.feature_state("replication", ReplicationState)


# Configuration


def replication_configuration(registry: Registry) -> dict:
    """Return the replication configuration. A registry that never set one has `{"rules": []}`."""
    return state_of(registry).configuration


def put_replication_configuration(registry: Registry, configuration: dict) -> dict:
    """Validate and store a replication configuration. `{"rules": []}` removes replication."""
    configuration = copy.deepcopy(configuration)
    unique = set()
    for rule in configuration["rules"]:
        for destination in rule["destinations"]:
            if (destination["registryId"], destination["region"]) == (registry.account_id, registry.region_name):
                # NOTE: AWS documents no message for this, so this one follows ECR's constraint format.
                raise InvalidParameterException(
                    "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'The destination "
                    f"registry {destination['registryId']} in region {destination['region']} is the source registry "
                    "of the replication configuration'"
                )
            unique.add((destination["registryId"], destination["region"]))
    if len(unique) > MAX_UNIQUE_DESTINATIONS:
        raise InvalidParameterException(
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'A replication "
            f"configuration may have at most {MAX_UNIQUE_DESTINATIONS} unique destinations across all rules; "
            f"it has {len(unique)}'"
        )

    with STATE_LOCK:
        state_of(registry).configuration = configuration
    LOG.info(
        "replication configuration of %s/%s set with %d rules and %d destinations",
        registry.account_id, registry.region_name, len(configuration["rules"]), len(unique),
    )
    return configuration


def rule_matches(rule: dict, repository_name: str) -> bool:
    """Tell whether a replication rule selects a repository: no filters, or a PREFIX_MATCH prefix of its name."""
    filters = rule.get("repositoryFilters")
    if not filters:
        return True
    return any(repository_name.startswith(item["filter"]) for item in filters)


def replication_rules_for(registry: Registry, repository_name: str) -> list[dict]:
    """Return the rules of the replication configuration that select a repository, in order."""
    return [rule for rule in replication_configuration(registry)["rules"] if rule_matches(rule, repository_name)]


def replication_destinations(registry: Registry, repository_name: str) -> list[dict]:
    """Return the destinations `{"region", "registryId"}` that a repository's images replicate to.

    Each destination appears once, in the order of the rules, even when several rules name it.
    """
    destinations: list[dict] = []
    for rule in replication_rules_for(registry, repository_name):
        for destination in rule["destinations"]:
            entry = {"region": destination["region"], "registryId": destination["registryId"]}
            if entry not in destinations:
                destinations.append(entry)
    return destinations


# Image replication statuses


def image_replication_statuses(registry: Registry, repository_name: str, image_digest: str) -> list[dict]:
    """Return the ImageReplicationStatus entries recorded for an image, one per destination."""
    return [dict(status) for status in state_of(registry).statuses.get((repository_name, image_digest), [])]


def record_replication_status(
    registry: Registry,
    repository_name: str,
    image_digest: str,
    destination: dict,
    status: str,
    failure_code: str | None = None,
) -> None:
    """Record the replication status of an image at one destination, replacing an earlier one.

    The replication engine calls this as a copy starts (IN_PROGRESS) and ends (COMPLETE or FAILED).
    """
    if status not in (IN_PROGRESS, COMPLETE, FAILED):
        raise ValueError(f"unknown replication status {status!r}")
    entry = {"region": destination["region"], "registryId": destination["registryId"], "status": status}
    if failure_code is not None:
        entry["failureCode"] = failure_code

    with STATE_LOCK:
        statuses = state_of(registry).statuses.setdefault((repository_name, image_digest), [])
        for index, existing in enumerate(statuses):
            if (existing["region"], existing["registryId"]) == (entry["region"], entry["registryId"]):
                statuses[index] = entry
                break
        else:
            statuses.append(entry)


# Backfills


def start_backfill(registry: Registry, destination: dict) -> Backfill:
    """Start a backfill of the registry's existing images to one configured destination.

    The backfill records, at start, one planned replication per image and tag (an untagged image
    counts once) of every repository whose rules name the destination. Preparation is immediate,
    so the backfill starts IN_PROGRESS, or COMPLETE when nothing qualifies.

    Not emulated: copying the images; a backfill with planned replications moves on only through
    `record_backfill_result()` or StopReplicationBackfill.
    """
    destination = {"region": destination["region"], "registryId": destination["registryId"]}
    with STATE_LOCK:
        state = state_of(registry)
        configured = {
            (item["region"], item["registryId"])
            for rule in state.configuration["rules"]
            for item in rule["destinations"]
        }
        if (destination["region"], destination["registryId"]) not in configured:
            raise ValidationException(
                f"The destination registry {destination['registryId']} in region {destination['region']} is not in "
                f"the replication configuration of the registry with id '{registry.account_id}'. Add it to a "
                "replication rule before starting a replication backfill to it."
            )
        running = [backfill for backfill in state.backfills.values() if backfill.status in BACKFILL_RUNNING]
        for backfill in running:
            if backfill.destination["region"] == destination["region"]:
                raise ReplicationBackfillInProgressException(
                    f"The replication backfill '{backfill.id}' to region {destination['region']} is still "
                    f"{backfill.status}. Wait for it to end or stop it before starting another to that region."
                )
        if len(running) >= MAX_BACKFILLS_IN_PROGRESS:
            raise LimitExceededException(
                f"The registry with id '{registry.account_id}' already has {len(running)} replication backfills in "
                f"progress, the maximum of {MAX_BACKFILLS_IN_PROGRESS}"
            )

        backfill = Backfill(
            id=str(uuid.uuid4()),
            destination=destination,
            started_at=clock.now(),
            planned=_planned_replications(registry, destination),
        )
        if not backfill.planned:
            backfill.status = BACKFILL_COMPLETE
            backfill.ended_at = backfill.started_at
        state.backfills[backfill.id] = backfill

    LOG.info(
        "replication backfill %s started in %s/%s to %s/%s with %d replications",
        backfill.id, registry.account_id, registry.region_name, destination["registryId"], destination["region"],
        len(backfill.planned),
    )
    return backfill


def _planned_replications(registry: Registry, destination: dict) -> list[tuple[str, str, str | None]]:
    """List (repository, digest, tag) for the active images that the destination's rules select.

    An untagged image that a manifest list of its repository references travels with that list,
    so it is not planned on its own.
    """
    planned = []
    for name in sorted(registry.repositories):
        if destination not in replication_destinations(registry, name):
            continue
        repository = registry.repositories[name]
        children = {digest for image in repository.images.values() for digest in image.child_digests}
        for image in sorted(repository.images.values(), key=lambda image: (image.pushed_at, image.digest)):
            if image.status != ACTIVE:
                continue
            if image.tags:
                planned.extend((name, image.digest, tag) for tag in image.tags)
            elif image.digest not in children:
                planned.append((name, image.digest, None))
    return planned


def get_backfill(registry: Registry, backfill_id: str) -> Backfill:
    backfill = state_of(registry).backfills.get(backfill_id)
    if backfill is None:
        raise ReplicationBackfillNotFoundException(
            f"The replication backfill with id '{backfill_id}' does not exist in the registry with id "
            f"'{registry.account_id}'"
        )
    return backfill


def stop_backfill(registry: Registry, backfill_id: str) -> Backfill:
    """Stop a PREPARING or IN_PROGRESS backfill.

    AWS keeps a stopped backfill in STOPPING until its in-flight replications end. The emulator has
    none in flight, so the backfill is STOPPED when this returns.
    """
    with STATE_LOCK:
        backfill = get_backfill(registry, backfill_id)
        if backfill.status not in BACKFILL_STOPPABLE:
            raise ReplicationBackfillInvalidStatusException(
                f"The replication backfill with id '{backfill_id}' is {backfill.status}. Only a PREPARING or "
                "IN_PROGRESS replication backfill can be stopped."
            )
        backfill.status = BACKFILL_STOPPED
        backfill.ended_at = clock.now()
    LOG.info("replication backfill %s stopped in %s/%s", backfill_id, registry.account_id, registry.region_name)
    return backfill


def list_backfills(registry: Registry) -> list[Backfill]:
    """Return the registry's backfills in start order, without those that ended over 90 days ago."""
    cutoff = clock.now() - BACKFILL_RETENTION
    return [
        backfill
        for backfill in state_of(registry).backfills.values()
        if backfill.ended_at is None or backfill.ended_at >= cutoff
    ]


def record_backfill_result(
    registry: Registry,
    backfill_id: str,
    repository_name: str,
    image_id: dict,
    status: str,
    failure_code: str | None = None,
    sub_image_failure_codes: list[str] | None = None,
) -> Backfill:
    """Record the end of one planned replication of a running backfill, as the replication engine performs it.

    When every planned replication has a result the backfill is COMPLETE. Once at least 100 have
    ended and half or more of them failed, it is FAILED.
    """
    if status not in (COMPLETE, FAILED):
        raise ValueError(f"a backfill result is COMPLETE or FAILED, not {status!r}")
    result = {"repositoryName": repository_name, "imageId": dict(image_id), "status": status}
    if failure_code is not None:
        result["failureCode"] = failure_code
    if sub_image_failure_codes:
        result["subImageFailureCodes"] = list(sub_image_failure_codes)

    with STATE_LOCK:
        backfill = get_backfill(registry, backfill_id)
        if backfill.status != BACKFILL_IN_PROGRESS:
            raise ValueError(f"replication backfill {backfill_id} is {backfill.status}, not IN_PROGRESS")
        backfill.results.append(result)
        progress = backfill.progress()
        ended = progress["completedReplicationCount"] + progress["failedReplicationCount"]
        if ended >= BACKFILL_FAILURE_MINIMUM and 2 * progress["failedReplicationCount"] >= ended:
            backfill.status = BACKFILL_FAILED
            backfill.ended_at = clock.now()
        elif ended >= len(backfill.planned):
            backfill.status = BACKFILL_COMPLETE
            backfill.ended_at = clock.now()
    if backfill.status in BACKFILL_TERMINAL:
        LOG.info("replication backfill %s ended %s in %s/%s", backfill_id, backfill.status, registry.account_id, registry.region_name)
    return backfill


# Events: statuses belong to images and go with them.


image_state.drop_with_images(lambda registry: state_of(registry).statuses)
