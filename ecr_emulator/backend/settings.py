"""Registry-wide settings of one account in one region.

This module owns the account settings (Get/PutAccountSetting), the registry scanning configuration
and how it applies to each repository, and the pull-time update exclusions. Other feature modules
read these through the functions here, never through the stored dicts.
"""

import copy
import dataclasses
import datetime
import fnmatch
import logging

from ecr_emulator.api.errors import (
    ExclusionAlreadyExistsException,
    ExclusionNotFoundException,
    InvalidParameterException,
    LimitExceededException,
    ValidationException,
)
from ecr_emulator.backend.images import Repository
from ecr_emulator.backend.registry import Registry
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock

LOG = logging.getLogger(__name__)

# The values a registry has before PutAccountSetting changes them.
DEFAULT_ACCOUNT_SETTINGS = {
    "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE",
    "REGISTRY_POLICY_SCOPE": "V2",
    "BLOB_MOUNTING": "DISABLED",
}

# The values PutAccountSetting accepts for each setting name.
# NOTE: the botocore 1.44.8 model documents only AWS_NATIVE and V2 as valid values, while the user
# guide still describes switching a registry between V1 and V2, and CLAIR and AWS_NATIVE. Both
# older values are accepted here, so code written against either source keeps working.
ACCOUNT_SETTING_VALUES = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE", "CLAIR"),
    "REGISTRY_POLICY_SCOPE": ("V1", "V2"),
    "BLOB_MOUNTING": ("ENABLED", "DISABLED"),
}

BASIC = "BASIC"
ENHANCED = "ENHANCED"
SCAN_ON_PUSH = "SCAN_ON_PUSH"
CONTINUOUS_SCAN = "CONTINUOUS_SCAN"
MANUAL = "MANUAL"

# The scan frequencies a registry scanning rule may name under each scan type (RegistryScanningRule
# in the API reference). A repository that no rule matches is MANUAL under BASIC and not scanned at
# all under ENHANCED.
RULE_FREQUENCIES = {BASIC: (SCAN_ON_PUSH,), ENHANCED: (CONTINUOUS_SCAN, SCAN_ON_PUSH)}

# The user guide's pull-time update exclusions page: "up to 100 exclusions per account".
MAX_PULL_TIME_UPDATE_EXCLUSIONS = 100


@dataclasses.dataclass
class RegistrySettings:
    account_settings: dict[str, str] = dataclasses.field(default_factory=lambda: dict(DEFAULT_ACCOUNT_SETTINGS))
    scanning_configuration: dict = dataclasses.field(default_factory=lambda: {"scanType": BASIC, "rules": []})
    # principal ARN -> when it was registered, in registration order
    pull_time_update_exclusions: dict[str, datetime.datetime] = dataclasses.field(default_factory=dict)


def settings_of(registry: Registry) -> RegistrySettings:
    return registry.feature_state("settings", RegistrySettings)


# Account settings


def get_account_setting(registry: Registry, name: str) -> str:
    """Return the value of an account setting, raising InvalidParameterException for an unknown name."""
    _check_setting_name(name)
    return settings_of(registry).account_settings[name]


def put_account_setting(registry: Registry, name: str, value: str) -> str:
    """Check and store an account setting, and return the stored value."""
    _check_setting_name(name)
    allowed = ACCOUNT_SETTING_VALUES[name]
    if value not in allowed:
        # NOTE: AWS documents no message for an invalid value, so this one follows ECR's constraint format.
        raise InvalidParameterException(
            f"Invalid parameter at 'value' failed to satisfy constraint: 'Member must satisfy enum value set: "
            f"[{', '.join(allowed)}] for the account setting {name}'"
        )

    with STATE_LOCK:
        settings_of(registry).account_settings[name] = value
    LOG.info("account setting %s set to %s in %s/%s", name, value, registry.account_id, registry.region_name)
    return value


def _check_setting_name(name: str) -> None:
    if name not in ACCOUNT_SETTING_VALUES:
        raise InvalidParameterException(
            "Invalid parameter at 'name' failed to satisfy constraint: 'Member must satisfy enum value set: "
            f"[{', '.join(ACCOUNT_SETTING_VALUES)}]'"
        )


# Registry scanning configuration


def scanning_configuration(registry: Registry) -> dict:
    """Return the registry scanning configuration: `{"scanType": "BASIC"|"ENHANCED", "rules": [...]}`."""
    return settings_of(registry).scanning_configuration


def put_scanning_configuration(registry: Registry, scan_type: str | None, rules: list[dict] | None) -> dict:
    """Replace the registry scanning configuration and return it.

    An omitted scan type is BASIC, the type a registry without a configuration has. Each rule must
    name a frequency that its scan type supports.
    """
    scan_type = scan_type or BASIC
    rules = copy.deepcopy(rules or [])
    for index, rule in enumerate(rules, start=1):
        if rule["scanFrequency"] not in RULE_FREQUENCIES[scan_type]:
            # NOTE: AWS documents the supported frequencies but not the error's wording.
            raise ValidationException(
                f"The scan frequency {rule['scanFrequency']} of rule {index} is not supported for the {scan_type} "
                f"scan type. Supported scan frequencies: [{', '.join(RULE_FREQUENCIES[scan_type])}]"
            )

    configuration = {"scanType": scan_type, "rules": rules}
    with STATE_LOCK:
        settings_of(registry).scanning_configuration = configuration
    LOG.info("scanning configuration of %s/%s set to %s with %d rules", registry.account_id, registry.region_name, scan_type, len(rules))
    return configuration


def scanning_filter_matches(filter_value: str, repository_name: str) -> bool:
    """Tell whether a registry scanning filter selects a repository, as ECR matches them.

    A filter without `*` matches every repository whose name contains it. A filter with `*` must
    match the whole name, and each `*` matches zero or more characters. So `prod` matches
    `repo-prod-x`, while `prod*` matches `prod-repo` but not `repo-prod`.
    """
    if "*" not in filter_value:
        return filter_value in repository_name
    return fnmatch.fnmatchcase(repository_name, filter_value)


def scan_frequency_for(registry: Registry, repository: Repository | str) -> tuple[str, list[dict]]:
    """Return the scan frequency of one repository and the registry filters that set it.

    Precedence, from the user guide's scanning filter page: under ENHANCED, a matching
    CONTINUOUS_SCAN rule wins over a matching SCAN_ON_PUSH rule, and a repository that no rule
    matches is not scanned. Under BASIC, a matching SCAN_ON_PUSH
    rule makes it SCAN_ON_PUSH. Otherwise the repository's own `scanOnPush` (CreateRepository,
    PutImageScanningConfiguration) makes it SCAN_ON_PUSH with no applied filters, and a repository
    without it is MANUAL.
    """
    if isinstance(repository, str):
        repository = registry.get_repository(repository)
    configuration = scanning_configuration(registry)

    for frequency in RULE_FREQUENCIES[configuration["scanType"]]:
        applied = [
            dict(item)
            for rule in configuration["rules"]
            if rule["scanFrequency"] == frequency
            for item in rule["repositoryFilters"]
            if scanning_filter_matches(item["filter"], repository.name)
        ]
        if applied:
            return frequency, applied

    if configuration["scanType"] == BASIC and repository.scan_on_push:
        return SCAN_ON_PUSH, []
    # NOTE: ScanFrequency has no value for "not scanned" under ENHANCED. MANUAL is returned for it,
    # which was not checked against AWS.
    return MANUAL, []


def repository_scanning_configuration(registry: Registry, repository: Repository) -> dict:
    """Describe a repository's scanning as BatchGetRepositoryScanningConfiguration returns it."""
    frequency, applied = scan_frequency_for(registry, repository)
    return {
        "repositoryArn": repository.arn,
        "repositoryName": repository.name,
        # NOTE: taken as true for continuous scanning, which also scans each image as it is pushed;
        # not checked against AWS.
        "scanOnPush": frequency in (SCAN_ON_PUSH, CONTINUOUS_SCAN),
        "scanFrequency": frequency,
        "appliedScanFilters": applied,
    }


# Pull-time update exclusions


def register_pull_time_update_exclusion(registry: Registry, principal_arn: str) -> datetime.datetime:
    """Exclude a principal's pulls from updating lastRecordedPullTime, and return when it was registered."""
    with STATE_LOCK:
        exclusions = settings_of(registry).pull_time_update_exclusions
        if principal_arn in exclusions:
            raise ExclusionAlreadyExistsException(
                f"The principal '{principal_arn}' is already excluded from pull time updates in the registry "
                f"with id '{registry.account_id}'"
            )
        if len(exclusions) >= MAX_PULL_TIME_UPDATE_EXCLUSIONS:
            raise LimitExceededException(
                f"The registry with id '{registry.account_id}' already has the maximum of "
                f"{MAX_PULL_TIME_UPDATE_EXCLUSIONS} pull time update exclusions"
            )
        created_at = clock.now()
        exclusions[principal_arn] = created_at
    LOG.info("pull time updates excluded for %s in %s/%s", principal_arn, registry.account_id, registry.region_name)
    return created_at


def deregister_pull_time_update_exclusion(registry: Registry, principal_arn: str) -> None:
    with STATE_LOCK:
        exclusions = settings_of(registry).pull_time_update_exclusions
        if principal_arn not in exclusions:
            raise ExclusionNotFoundException(
                f"The principal '{principal_arn}' is not excluded from pull time updates in the registry with id "
                f"'{registry.account_id}'"
            )
        del exclusions[principal_arn]
    LOG.info("pull time updates restored for %s in %s/%s", principal_arn, registry.account_id, registry.region_name)


def pull_time_update_exclusions(registry: Registry) -> list[str]:
    """Return the excluded principal ARNs in registration order."""
    return list(settings_of(registry).pull_time_update_exclusions)


def is_pull_time_update_excluded(registry: Registry, principal_arn: str | None) -> bool:
    """Tell whether a pull by `principal_arn` must leave the image's lastRecordedPullTime unchanged."""
    return principal_arn is not None and principal_arn in settings_of(registry).pull_time_update_exclusions
