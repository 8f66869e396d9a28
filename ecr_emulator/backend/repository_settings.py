"""Repository settings: resource tags, image tag mutability, scan on push and encryption.

CreateRepository and the operations that change one setting later (TagResource, UntagResource,
PutImageTagMutability, PutImageScanningConfiguration) share the checks here. So a repository
never keeps a setting that one of them would have rejected. Every check runs before any state
changes. The settings themselves are fields of `Repository`.

The limits follow the ECR API reference: at most 50 tags per repository, tag keys of 1 to 128
characters and values of at most 256 (the Tag shape and InvalidTagParameterException), keys
starting with `aws:` reserved for AWS (the tag restrictions that AWS services share).

NOTE: ECR does not document its messages for a reserved tag key, for exclusion filters with
MUTABLE or IMMUTABLE, for a kmsKey with AES256 and for an unusable KMS key. Those texts are ours.

Not emulated: KMS keys are not looked up. Any well-formed key id, alias or ARN of the
repository's region is accepted and reported as a key ARN, and an alias resolves to a key id
derived from the account, region and alias name. ECR offers KMS_DSSE only in the AWS GovCloud
(US) Regions, while the emulator accepts it in every region.
"""

import dataclasses
import logging
import re
import uuid

from ecr_emulator.api.errors import (
    InvalidParameterException,
    InvalidTagParameterException,
    KmsException,
    TooManyTagsException,
)
from ecr_emulator.backend.images import Repository
from ecr_emulator.backend.registry import Registry, registry_for
from ecr_emulator.backend.runtime import STATE_LOCK

LOG = logging.getLogger(__name__)

MAX_TAGS = 50
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
RESERVED_TAG_PREFIX = "aws:"

TAG_LENGTH_MESSAGE = (
    "Tag keys can have a maximum character length of 128 characters, and tag values can have a "
    "maximum length of 256 characters."
)
TOO_MANY_TAGS_MESSAGE = (
    "The list of tags on the repository is over the limit. The maximum number of tags that can be "
    "applied to a repository is 50."
)

WITH_EXCLUSION = frozenset({"IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"})

DEFAULT_ENCRYPTION = {"encryptionType": "AES256"}
KMS_ENCRYPTION_TYPES = frozenset({"KMS", "KMS_DSSE"})
# The alias of the AWS managed key that ECR uses when KMS encryption names no key.
ECR_MANAGED_KEY_ALIAS = "aws/ecr"

# RepositoryName in the ECR service model.
REPOSITORY_NAME = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
REPOSITORY_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):ecr:(?P<region>[^:]+):(?P<account>\d{12}):repository/(?P<name>.+)$"
)
INVALID_ARN = "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"

KMS_KEY_ID = re.compile(r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-f]{32})$")
KMS_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):kms:(?P<region>[^:]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<name>.+)$"
)
KMS_ALIAS_NAME = re.compile(r"^alias/(?P<name>[a-zA-Z0-9/_-]+)$")

# Namespace of the key ids that stand for KMS keys of aliases (uuid5, so they stay stable).
_KMS_KEY_NAMESPACE = uuid.UUID("0c7a4f5e-3b1d-5e4a-9f62-6d1b8e2a7c40")


@dataclasses.dataclass(frozen=True)
class Place:
    """Partition, region and account of the caller, which repository ARNs and KMS keys must match."""

    partition: str
    region: str
    account_id: str


# --- resource tags ---


def check_tags(tags: list[dict] | None) -> dict[str, str]:
    """Check the Tag list of a request and return it as a dict, in which a repeated key keeps its last value.

    Raises InvalidTagParameterException for a key or value out of bounds or a reserved key, and
    TooManyTagsException for more than 50 distinct keys.
    """
    checked: dict[str, str] = {}
    for tag in tags or []:
        key, value = tag["Key"], tag["Value"]
        check_tag_key(key)
        if len(value) > MAX_TAG_VALUE_LENGTH:
            raise InvalidTagParameterException(TAG_LENGTH_MESSAGE)
        checked[key] = value
    if len(checked) > MAX_TAGS:
        raise TooManyTagsException(TOO_MANY_TAGS_MESSAGE)
    return checked


def check_tag_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_TAG_KEY_LENGTH:
        raise InvalidTagParameterException(TAG_LENGTH_MESSAGE)
    if key.lower().startswith(RESERVED_TAG_PREFIX):
        raise InvalidTagParameterException(
            f"The tag key '{key}' starts with '{RESERVED_TAG_PREFIX}', a prefix that is reserved for AWS use."
        )


def repository_for_arn(resource_arn: str, place: Place) -> tuple[Registry, Repository]:
    """Return the registry and repository that a repository ARN of the caller's account and region names.

    Raises InvalidParameterException for any other ARN (only repositories are taggable) and
    RepositoryNotFoundException when no such repository exists.
    """
    match = REPOSITORY_ARN.match(resource_arn)
    if (
        match is None
        or match["partition"] != place.partition
        or match["region"] != place.region
        or match["account"] != place.account_id
        or not REPOSITORY_NAME.fullmatch(match["name"])
    ):
        raise InvalidParameterException(INVALID_ARN)
    registry = registry_for(place.account_id, place.region)
    return registry, registry.get_repository(match["name"])


def tag_repository(resource_arn: str, tags: list[dict], place: Place) -> None:
    """Add or overwrite tags of a repository, raising TooManyTagsException when it would have more than 50."""
    added = check_tags(tags)
    registry, repository = repository_for_arn(resource_arn, place)
    with STATE_LOCK:
        merged = {**repository.resource_tags, **added}
        if len(merged) > MAX_TAGS:
            raise TooManyTagsException(TOO_MANY_TAGS_MESSAGE)
        repository.resource_tags = merged
    LOG.info("tags %s set on %s", sorted(added), resource_arn)


def untag_repository(resource_arn: str, tag_keys: list[str], place: Place) -> None:
    """Remove tags of a repository by key, ignoring keys that the repository does not have."""
    for key in tag_keys:
        check_tag_key(key)
    removed = set(tag_keys)
    registry, repository = repository_for_arn(resource_arn, place)
    with STATE_LOCK:
        repository.resource_tags = {key: value for key, value in repository.resource_tags.items() if key not in removed}
    LOG.info("tags %s removed from %s", sorted(tag_keys), resource_arn)


def list_tags(resource_arn: str, place: Place) -> list[dict]:
    registry, repository = repository_for_arn(resource_arn, place)
    return [{"Key": key, "Value": value} for key, value in repository.resource_tags.items()]


# --- image tag mutability and scan on push ---


def check_tag_mutability(mutability: str, exclusion_filters: list[dict] | None) -> None:
    """Raise InvalidParameterException unless the filters suit the mutability setting.

    The *_WITH_EXCLUSION settings need filters, and MUTABLE and IMMUTABLE take none.
    """
    if mutability in WITH_EXCLUSION and not exclusion_filters:
        # The text ECR returns, as CloudFormation deployments report it.
        raise InvalidParameterException(
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
            f"'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as {mutability}'"
        )
    if mutability not in WITH_EXCLUSION and exclusion_filters:
        # This text mirrors the one above.
        raise InvalidParameterException(
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
            f"'ImageTagMutabilityExclusionFilters must be null when imageTagMutability is set as {mutability}'"
        )


def put_image_tag_mutability(
    registry: Registry, repository_name: str, mutability: str, exclusion_filters: list[dict] | None
) -> Repository:
    check_tag_mutability(mutability, exclusion_filters)
    with STATE_LOCK:
        repository = registry.get_repository(repository_name)
        repository.image_tag_mutability = mutability
        repository.image_tag_mutability_exclusion_filters = list(exclusion_filters or [])
    LOG.info("image tag mutability of %s set to %s", repository.arn, mutability)
    return repository


def put_scan_on_push(registry: Registry, repository_name: str, scan_on_push: bool) -> Repository:
    with STATE_LOCK:
        repository = registry.get_repository(repository_name)
        repository.scan_on_push = scan_on_push
    LOG.info("scan on push of %s set to %s", repository.arn, scan_on_push)
    return repository


# --- encryption ---


def resolve_encryption(configuration: dict | None, place: Place) -> dict:
    """Return the encryption configuration that a new repository reports.

    AES256 is the default and takes no kmsKey. KMS and KMS_DSSE use the named key, reported as
    a key ARN, or without a key the account's AWS managed key for ECR (alias aws/ecr).
    """
    if configuration is None:
        return dict(DEFAULT_ENCRYPTION)
    encryption_type = configuration["encryptionType"]
    kms_key = configuration.get("kmsKey")

    if encryption_type not in KMS_ENCRYPTION_TYPES:
        if kms_key is not None:
            raise InvalidParameterException(
                "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: "
                f"'kmsKey can be specified only when encryptionType is KMS or KMS_DSSE, not {encryption_type}'"
            )
        return {"encryptionType": encryption_type}

    if kms_key is None:
        key_arn = managed_key_arn(place)
    else:
        key_arn = kms_key_arn(kms_key, place)
    return {"encryptionType": encryption_type, "kmsKey": key_arn}


def managed_key_arn(place: Place) -> str:
    """Return the stable ARN of the AWS managed key for ECR in the caller's account and region."""
    return _alias_key_arn(place.partition, place.region, place.account_id, ECR_MANAGED_KEY_ALIAS)


def kms_key_arn(kms_key: str, place: Place) -> str:
    """Resolve a key id, key ARN, alias name or alias ARN to a key ARN in the caller's region.

    Raises KmsException, as ECR reports a failed KMS DescribeKey, for a value of none of these
    forms or a key of another region.
    """
    if KMS_KEY_ID.match(kms_key):
        return f"arn:{place.partition}:kms:{place.region}:{place.account_id}:key/{kms_key}"

    alias = KMS_ALIAS_NAME.match(kms_key)
    if alias:
        return _alias_key_arn(place.partition, place.region, place.account_id, alias["name"])

    arn = KMS_ARN.match(kms_key)
    if arn is None:
        raise _kms_not_found(kms_key, place)
    if arn["partition"] != place.partition or arn["region"] != place.region:
        raise _kms_not_found(kms_key, place)
    if arn["kind"] == "key":
        if not KMS_KEY_ID.match(arn["name"]):
            raise _kms_not_found(kms_key, place)
        return kms_key
    return _alias_key_arn(arn["partition"], arn["region"], arn["account"], arn["name"])


def _alias_key_arn(partition: str, region: str, account_id: str, alias_name: str) -> str:
    key_id = uuid.uuid5(_KMS_KEY_NAMESPACE, f"{partition}/{region}/{account_id}/{alias_name}")
    return f"arn:{partition}:kms:{region}:{account_id}:key/{key_id}"


def _kms_not_found(kms_key: str, place: Place) -> KmsException:
    # kmsError carries the error code that KMS returns for a key it cannot find.
    return KmsException(
        f"The KMS key '{kms_key}' is not a key id, key ARN, alias or alias ARN of a key in {place.region}",
        kmsError="NotFoundException",
    )
