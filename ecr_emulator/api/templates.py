"""CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates, UpdateRepositoryCreationTemplate
and DeleteRepositoryCreationTemplate."""

from ecr_emulator.api import common
from ecr_emulator.backend import templates
from ecr_emulator.backend.templates import RepositoryCreationTemplate
from ecr_emulator.protocol.dispatch import handler


def template_description(template: RepositoryCreationTemplate) -> dict:
    return {
        "prefix": template.prefix,
        "description": template.description,
        "encryptionConfiguration": template.encryption_configuration,
        "resourceTags": template.resource_tags,
        "imageTagMutability": template.image_tag_mutability,
        "imageTagMutabilityExclusionFilters": template.image_tag_mutability_exclusion_filters or None,
        "repositoryPolicy": template.repository_policy,
        "lifecyclePolicy": template.lifecycle_policy,
        "appliedFor": template.applied_for,
        "customRoleArn": template.custom_role_arn,
        "createdAt": template.created_at,
        "updatedAt": template.updated_at,
    }


@handler("CreateRepositoryCreationTemplate")
def create_repository_creation_template(
    context,
    prefix,
    applied_for,
    description=None,
    encryption_configuration=None,
    resource_tags=None,
    image_tag_mutability=None,
    image_tag_mutability_exclusion_filters=None,
    repository_policy=None,
    lifecycle_policy=None,
    custom_role_arn=None,
    **kwargs,
):
    """Store a template after checking its policies, mutability settings and role ARN.

    Not emulated: the KMS key and the customRoleArn role are not looked up in KMS and IAM.
    Not emulated: the Regions without templates (AWS GovCloud (US)) accept them.
    Not emulated: a limit on the number of templates, because ECR documents none.
    """
    registry = common.registry(context)
    template = templates.create_template(
        registry,
        prefix,
        applied_for,
        description=description,
        encryption_configuration=encryption_configuration,
        resource_tags=resource_tags,
        image_tag_mutability=image_tag_mutability,
        image_tag_mutability_exclusion_filters=image_tag_mutability_exclusion_filters,
        repository_policy=repository_policy,
        lifecycle_policy=lifecycle_policy,
        custom_role_arn=custom_role_arn,
    )
    return {"registryId": registry.account_id, "repositoryCreationTemplate": template_description(template)}


@handler("DescribeRepositoryCreationTemplates")
def describe_repository_creation_templates(context, prefixes=None, next_token=None, max_results=None, **kwargs):
    registry = common.registry(context)
    found = templates.list_templates(registry, prefixes)
    page, token = common.paginate(found, max_results, next_token)
    return {
        "registryId": registry.account_id,
        "repositoryCreationTemplates": [template_description(template) for template in page],
        "nextToken": token,
    }


@handler("UpdateRepositoryCreationTemplate")
def update_repository_creation_template(
    context,
    prefix,
    description=None,
    encryption_configuration=None,
    resource_tags=None,
    image_tag_mutability=None,
    image_tag_mutability_exclusion_filters=None,
    repository_policy=None,
    lifecycle_policy=None,
    applied_for=None,
    custom_role_arn=None,
    **kwargs,
):
    registry = common.registry(context)
    template = templates.update_template(
        registry,
        prefix,
        applied_for=applied_for,
        description=description,
        encryption_configuration=encryption_configuration,
        resource_tags=resource_tags,
        image_tag_mutability=image_tag_mutability,
        image_tag_mutability_exclusion_filters=image_tag_mutability_exclusion_filters,
        repository_policy=repository_policy,
        lifecycle_policy=lifecycle_policy,
        custom_role_arn=custom_role_arn,
    )
    return {"registryId": registry.account_id, "repositoryCreationTemplate": template_description(template)}


@handler("DeleteRepositoryCreationTemplate")
def delete_repository_creation_template(context, prefix, **kwargs):
    registry = common.registry(context)
    template = templates.delete_template(registry, prefix)
    return {"registryId": registry.account_id, "repositoryCreationTemplate": template_description(template)}
