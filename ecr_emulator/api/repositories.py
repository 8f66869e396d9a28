"""CreateRepository, DescribeRepositories and DeleteRepository."""

from ecr_emulator.api import common
from ecr_emulator.backend.images import Repository
from ecr_emulator.backend.registry import Registry
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
    registry = common.registry(context, registry_id)
    repository = registry.create_repository(
        repository_name,
        image_tag_mutability=image_tag_mutability or "MUTABLE",
        image_tag_mutability_exclusion_filters=image_tag_mutability_exclusion_filters or [],
        scan_on_push=bool((image_scanning_configuration or {}).get("scanOnPush")),
        encryption_configuration=encryption_configuration or {"encryptionType": "AES256"},
        resource_tags={tag["Key"]: tag["Value"] for tag in tags or []},
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

