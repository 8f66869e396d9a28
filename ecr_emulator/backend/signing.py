"""Managed signing of one registry: the signing configuration and the signing status of each image.

When an image is pushed while a signing configuration exists, ECR starts one signing job per
signing profile whose rule selects the repository. This module records those jobs as IN_PROGRESS
statuses. Producing the signature with AWS Signer is a signing engine's work, which reports the
outcome through `record_signing_status()`. Until that engine exists a job stays IN_PROGRESS.
"""

import copy
import dataclasses
import fnmatch
import logging

from ecr_emulator.api.errors import SigningConfigurationNotFoundException
from ecr_emulator.backend import image_state
from ecr_emulator.backend.registry import Registry, registry_for
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import events

LOG = logging.getLogger(__name__)

# SigningStatus values of the model.
IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"

# The artifact type of a Notation signature, which is what AWS Signer produces.
# NOTE: no signing job starts for a pushed Notation signature. AWS's pages that were checked do not
# state whether ECR signs the signatures it stores.
NOTARY_SIGNATURE = "application/vnd.cncf.notary.signature"


@dataclasses.dataclass
class SigningState:
    configuration: dict | None = None
    # (repository name, image digest) -> signing profile ARN -> ImageSigningStatus dict
    statuses: dict[tuple[str, str], dict[str, dict]] = dataclasses.field(default_factory=dict)


def state_of(registry: Registry) -> SigningState:
    return registry.feature_state("signing", SigningState)


# Configuration


def signing_configuration(registry: Registry) -> dict:
    """Return the signing configuration, raising SigningConfigurationNotFoundException when there is none."""
    configuration = state_of(registry).configuration
    if configuration is None:
        raise SigningConfigurationNotFoundException(
            f"The signing configuration does not exist in the registry with id '{registry.account_id}'"
        )
    return configuration


def put_signing_configuration(registry: Registry, configuration: dict) -> dict:
    """Create or replace the signing configuration and return it."""
    configuration = copy.deepcopy(configuration)
    with STATE_LOCK:
        state_of(registry).configuration = configuration
    LOG.info(
        "signing configuration of %s/%s set with %d rules",
        registry.account_id, registry.region_name, len(configuration["rules"]),
    )
    return configuration


def delete_signing_configuration(registry: Registry) -> dict:
    """Delete the signing configuration and return it; the statuses of signed images stay."""
    with STATE_LOCK:
        configuration = signing_configuration(registry)
        state_of(registry).configuration = None
    LOG.info("signing configuration of %s/%s deleted", registry.account_id, registry.region_name)
    return configuration


def rule_matches(rule: dict, repository_name: str) -> bool:
    """Tell whether a signing rule selects a repository.

    A rule without filters selects every repository. A WILDCARD_MATCH filter matches the whole name,
    with `*` standing for any sequence of characters: `myapp/*`, `*/production`, `*prod*`.
    """
    filters = rule.get("repositoryFilters")
    if not filters:
        return True
    return any(fnmatch.fnmatchcase(repository_name, item["filter"]) for item in filters)


def signing_profiles_for(registry: Registry, repository_name: str) -> list[str]:
    """Return the signing profile ARNs whose rules select a repository, each once, in rule order."""
    configuration = state_of(registry).configuration
    if configuration is None:
        return []
    profiles: list[str] = []
    for rule in configuration["rules"]:
        if rule_matches(rule, repository_name) and rule["signingProfileArn"] not in profiles:
            profiles.append(rule["signingProfileArn"])
    return profiles


# Image signing statuses


def image_signing_statuses(registry: Registry, repository_name: str, image_digest: str) -> list[dict]:
    """Return the ImageSigningStatus entries of an image, one per signing profile."""
    by_profile = state_of(registry).statuses.get((repository_name, image_digest), {})
    return [dict(status) for status in by_profile.values()]


def record_signing_status(
    registry: Registry,
    repository_name: str,
    image_digest: str,
    signing_profile_arn: str,
    status: str,
    failure_code: str | None = None,
    failure_reason: str | None = None,
) -> None:
    """Record the signing status of an image for one profile, replacing an earlier one.

    A signing engine calls this when a signature is produced (COMPLETE) or fails (FAILED, with a
    failure code and reason).
    """
    if status not in (IN_PROGRESS, COMPLETE, FAILED):
        raise ValueError(f"unknown signing status {status!r}")
    entry = {"signingProfileArn": signing_profile_arn, "status": status}
    if failure_code is not None:
        entry["failureCode"] = failure_code
    if failure_reason is not None:
        entry["failureReason"] = failure_reason
    with STATE_LOCK:
        state_of(registry).statuses.setdefault((repository_name, image_digest), {})[signing_profile_arn] = entry


def _start_signing(event: events.ImagePushed) -> None:
    """Start a signing job for each matching profile of a pushed image that has none yet.

    Not emulated: the signature itself. The job stays IN_PROGRESS until a signing engine reports.
    """
    registry = registry_for(event.account_id, event.region)
    profiles = signing_profiles_for(registry, event.repository_name)
    if not profiles:
        return
    repository = registry.repositories.get(event.repository_name)
    image = repository.images.get(event.image_digest) if repository else None
    if image is None or image.parsed.artifact_type == NOTARY_SIGNATURE:
        return

    with STATE_LOCK:
        by_profile = state_of(registry).statuses.setdefault((event.repository_name, event.image_digest), {})
        for profile in profiles:
            if profile not in by_profile:
                by_profile[profile] = {"signingProfileArn": profile, "status": IN_PROGRESS}
                LOG.info("signing of %s in %s started with %s", event.image_digest, event.repository_name, profile)


events.subscribe(events.ImagePushed, _start_signing)
image_state.drop_with_images(lambda registry: state_of(registry).statuses)
