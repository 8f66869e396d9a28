"""Repositories and their settings: create, describe and delete, resource tags, tag mutability and scan on push."""

from ecr_emulator.api import common
from ecr_emulator.backend import repository_settings
from ecr_emulator.backend.images import Repository
from ecr_emulator.backend.registry import Registry
from ecr_emulator.backend.repository_settings import Place
from ecr_emulator.core.context import RequestContext
from ecr_emulator.protocol.dispatch import handler


def repository_description(registry: Registry, repository: Repository) -> dict:
    description = {
        "repositoryArn": repository.arn,
        "registryId": registry.account_id,
        "repositoryName": repository.name,
        "repositoryUri": registry.repository_uri(repository),
        "createdAt": repository.created_at,
        "imageTagMutability": repository.image_tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": repository.scan_on_push},
        "encryptionConfiguration": repository.encryption_configuration,
    }
    if repository.image_tag_mutability_exclusion_filters:
        description["imageTagMutabilityExclusionFilters"] = repository.image_tag_mutability_exclusion_filters
    return description


def place_of(context: RequestContext, registry: Registry | None = None) -> Place:
    """Return the partition, region and account of the request, or of `registry` when given."""
    account_id = registry.account_id if registry is not None else context.account_id
    return Place(partition=context.partition, region=context.region, account_id=account_id)


@handler("CreateRepository")
def create_repository(
    context,
    repository_name,
    registry_id=None,
    tags=None,
    image_tag_mutability=None,
    image_tag_mutability_exclusion_filters=None,
    image_scanning_configuration=None,
    encryption_configuration=None,
    **kwargs,
):
    """Not emulated: KMS keys are not looked up, so any well-formed key id, alias or ARN of the region is accepted.
    Not emulated: ECR offers KMS_DSSE only in the AWS GovCloud (US) Regions, and the emulator accepts it in every region.
    """
    registry = common.registry(context, registry_id)
    mutability = image_tag_mutability or "MUTABLE"
    repository_settings.check_tag_mutability(mutability, image_tag_mutability_exclusion_filters)
    encryption = repository_settings.resolve_encryption(encryption_configuration, place_of(context, registry))
    resource_tags = repository_settings.check_tags(tags)

    repository = registry.create_repository(
        repository_name,
        image_tag_mutability=mutability,
        image_tag_mutability_exclusion_filters=list(image_tag_mutability_exclusion_filters or []),
        scan_on_push=bool((image_scanning_configuration or {}).get("scanOnPush")),
        encryption_configuration=encryption,
        resource_tags=resource_tags,
    )
    return {"repository": repository_description(registry, repository)}


@handler("DescribeRepositories")
def describe_repositories(context, registry_id=None, repository_names=None, next_token=None, max_results=None, **kwargs):
    common.reject_ids_with_paging("repositoryNames", repository_names, max_results, next_token)
    registry = common.registry(context, registry_id)

    if repository_names:
        repositories = [registry.get_repository(name) for name in repository_names]
        return {"repositories": [repository_description(registry, repository) for repository in repositories]}

    repositories = sorted(registry.repositories.values(), key=lambda repository: repository.name)
    page, token = common.paginate(repositories, max_results, next_token)
    return {"repositories": [repository_description(registry, repository) for repository in page], "nextToken": token}


@handler("DeleteRepository")
def delete_repository(context, repository_name, registry_id=None, force=False, **kwargs):
    registry = common.registry(context, registry_id)
    repository = registry.delete_repository(repository_name, force=bool(force))
    return {"repository": repository_description(registry, repository)}


@handler("PutImageTagMutability")
def put_image_tag_mutability(
    context, repository_name, image_tag_mutability, registry_id=None, image_tag_mutability_exclusion_filters=None, **kwargs
):
    registry = common.registry(context, registry_id)
    repository = repository_settings.put_image_tag_mutability(
        registry, repository_name, image_tag_mutability, image_tag_mutability_exclusion_filters
    )
    return {
        "registryId": registry.account_id,
        "repositoryName": repository.name,
        "imageTagMutability": repository.image_tag_mutability,
        "imageTagMutabilityExclusionFilters": repository.image_tag_mutability_exclusion_filters or None,
    }


@handler("PutImageScanningConfiguration")
def put_image_scanning_configuration(context, repository_name, image_scanning_configuration, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    scan_on_push = bool(image_scanning_configuration.get("scanOnPush"))
    repository = repository_settings.put_scan_on_push(registry, repository_name, scan_on_push)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository.name,
        "imageScanningConfiguration": {"scanOnPush": repository.scan_on_push},
    }


@handler("TagResource")
def tag_resource(context, resource_arn, tags, **kwargs):
    repository_settings.tag_repository(resource_arn, tags, place_of(context))
    return {}


@handler("UntagResource")
def untag_resource(context, resource_arn, tag_keys, **kwargs):
    repository_settings.untag_repository(resource_arn, tag_keys, place_of(context))
    return {}


@handler("ListTagsForResource")
def list_tags_for_resource(context, resource_arn, **kwargs):
    return {"tags": repository_settings.list_tags(resource_arn, place_of(context))}
