"""Registry settings: account settings, registry scanning configuration, managed signing and
pull-time update exclusions."""

import logging

from ecr_emulator.api import common
from ecr_emulator.api.errors import RepositoryNotFoundException
from ecr_emulator.backend import settings, signing
from ecr_emulator.protocol.dispatch import handler

LOG = logging.getLogger(__name__)

REPOSITORY_NOT_FOUND = "REPOSITORY_NOT_FOUND"


# Account settings


@handler("GetAccountSetting")
def get_account_setting(context, name, **kwargs):
    registry = common.registry(context)
    return {"name": name, "value": settings.get_account_setting(registry, name)}


@handler("PutAccountSetting")
def put_account_setting(context, name, value, **kwargs):
    registry = common.registry(context)
    return {"name": name, "value": settings.put_account_setting(registry, name, value)}


# Registry scanning configuration


@handler("PutRegistryScanningConfiguration")
def put_registry_scanning_configuration(context, scan_type=None, rules=None, **kwargs):
    registry = common.registry(context)
    configuration = settings.put_scanning_configuration(registry, scan_type, rules)
    return {"registryScanningConfiguration": configuration}


@handler("GetRegistryScanningConfiguration")
def get_registry_scanning_configuration(context, **kwargs):
    registry = common.registry(context)
    return {"registryId": registry.account_id, "scanningConfiguration": settings.scanning_configuration(registry)}


@handler("BatchGetRepositoryScanningConfiguration")
def batch_get_repository_scanning_configuration(context, repository_names, **kwargs):
    registry = common.registry(context)

    configurations, failures = [], []
    for name in dict.fromkeys(repository_names):
        try:
            repository = registry.get_repository(name)
        except RepositoryNotFoundException as error:
            LOG.debug("scanning configuration requested for missing repository %s", name)
            failures.append({"repositoryName": name, "failureCode": REPOSITORY_NOT_FOUND, "failureReason": error.message})
            continue
        configurations.append(settings.repository_scanning_configuration(registry, repository))

    return {"scanningConfigurations": configurations, "failures": failures}


# Managed signing


@handler("PutSigningConfiguration")
def put_signing_configuration(context, signing_configuration, **kwargs):
    registry = common.registry(context)
    return {"signingConfiguration": signing.put_signing_configuration(registry, signing_configuration)}


@handler("GetSigningConfiguration")
def get_signing_configuration(context, **kwargs):
    registry = common.registry(context)
    return {"registryId": registry.account_id, "signingConfiguration": signing.signing_configuration(registry)}


@handler("DeleteSigningConfiguration")
def delete_signing_configuration(context, **kwargs):
    registry = common.registry(context)
    return {"registryId": registry.account_id, "signingConfiguration": signing.delete_signing_configuration(registry)}


@handler("DescribeImageSigningStatus")
def describe_image_signing_status(context, repository_name, image_id, registry_id=None, **kwargs):
    """Return a status per signing profile that started a job when the image was pushed.

    Not emulated: signatures. A signing job stays IN_PROGRESS, because nothing signs the image.
    """
    registry = common.registry(context, registry_id)
    image = registry.get_image(repository_name, image_id)
    return {
        "repositoryName": repository_name,
        "imageId": _resolved_image_id(image_id, image.digest),
        "registryId": registry.account_id,
        "signingStatuses": signing.image_signing_statuses(registry, repository_name, image.digest),
    }


def _resolved_image_id(image_id: dict, digest: str) -> dict:
    resolved = {"imageDigest": digest}
    if image_id.get("imageTag") is not None:
        resolved["imageTag"] = image_id["imageTag"]
    return resolved


# Pull-time update exclusions


@handler("RegisterPullTimeUpdateExclusion")
def register_pull_time_update_exclusion(context, principal_arn, **kwargs):
    registry = common.registry(context)
    created_at = settings.register_pull_time_update_exclusion(registry, principal_arn)
    return {"principalArn": principal_arn, "createdAt": created_at}


@handler("DeregisterPullTimeUpdateExclusion")
def deregister_pull_time_update_exclusion(context, principal_arn, **kwargs):
    registry = common.registry(context)
    settings.deregister_pull_time_update_exclusion(registry, principal_arn)
    return {"principalArn": principal_arn}


@handler("ListPullTimeUpdateExclusions")
def list_pull_time_update_exclusions(context, max_results=None, next_token=None, **kwargs):
    registry = common.registry(context)
    page, token = common.paginate(settings.pull_time_update_exclusions(registry), max_results, next_token)
    return {"pullTimeUpdateExclusions": page, "nextToken": token}
