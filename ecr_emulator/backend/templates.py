"""Repository creation templates: the settings ECR gives the repositories it creates by itself.

ECR creates a repository on its own behalf on the first pull through a pull through cache rule,
on replication into a registry, and on a push to a missing repository (CREATE_ON_PUSH). The
template whose prefix matches the new repository's name, and whose `appliedFor` lists the
scenario, supplies the repository's settings. `matching_template` finds that template, and
`create_repository_settings` turns it into arguments for `Registry.create_repository`.

A prefix always has an implied trailing `/`: the template `prod` matches `prod/app` but neither
`prod` itself nor `production/app`. The longest matching prefix wins, and the prefix `ROOT`
matches every name that no other template matches. Templates only apply when a repository is
created, never to existing repositories or to CreateRepository calls.

The behaviour follows the ECR API reference for CreateRepositoryCreationTemplate and the user
guide page "Templates to control repositories created during a pull through cache, create on
push, or replication action".
"""

import dataclasses
import datetime
import logging
import re

from ecr_emulator.api.errors import (
    InvalidParameterException,
    TemplateAlreadyExistsException,
    TemplateNotFoundException,
)
from ecr_emulator.backend import lifecycle_policies, policies, repository_settings
from ecr_emulator.backend.images import Repository
from ecr_emulator.backend.registry import Registry
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock

LOG = logging.getLogger(__name__)

ROOT = "ROOT"

# The RCTAppliedFor values of the ECR model.
REPLICATION = "REPLICATION"
PULL_THROUGH_CACHE = "PULL_THROUGH_CACHE"
CREATE_ON_PUSH = "CREATE_ON_PUSH"

# An IAM role ARN. The API reference requires the role to be in the registry's own account.
# NOTE: ECR does not document its messages for a customRoleArn it rejects, so those texts are ours.
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")


class TemplateNotApplicable(Exception):
    """The template's settings cannot be applied, so ECR fails to create the repository.

    The user guide requires a `customRoleArn` on a template that sets resource tags or KMS
    encryption, "otherwise the repository creation will fail". CreateRepositoryCreationTemplate
    itself accepts such a template, and the failure shows only when ECR creates a repository from it.
    """


@dataclasses.dataclass
class RepositoryCreationTemplate:
    prefix: str
    applied_for: list[str]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    description: str | None = None
    encryption_configuration: dict = dataclasses.field(default_factory=lambda: {"encryptionType": "AES256"})
    resource_tags: list[dict] = dataclasses.field(default_factory=list)
    image_tag_mutability: str = "MUTABLE"
    image_tag_mutability_exclusion_filters: list[dict] = dataclasses.field(default_factory=list)
    repository_policy: str | None = None
    lifecycle_policy: str | None = None
    custom_role_arn: str | None = None

    @property
    def key(self) -> str:
        return prefix_key(self.prefix)


@dataclasses.dataclass
class TemplateState:
    # prefix_key(prefix) -> template
    templates: dict[str, RepositoryCreationTemplate] = dataclasses.field(default_factory=dict)


def templates_of(registry: Registry) -> TemplateState:
    return registry.feature_state("templates", TemplateState)


def prefix_key(prefix: str) -> str:
    """Return the form of `prefix` that lookups compare: `prod/` and `prod` name one template."""
    return prefix if prefix == ROOT else prefix.rstrip("/")


# Operations


def create_template(registry: Registry, prefix: str, applied_for: list[str], **settings) -> RepositoryCreationTemplate:
    """Store a new template. `settings` are the optional members of CreateRepositoryCreationTemplate.

    The members use the model's names in snake_case (description, encryption_configuration,
    resource_tags, image_tag_mutability, image_tag_mutability_exclusion_filters,
    repository_policy, lifecycle_policy, custom_role_arn); None means the member was omitted.
    """
    now = clock.now()
    template = RepositoryCreationTemplate(prefix=prefix, applied_for=[], created_at=now, updated_at=now)
    _apply_changes(registry, template, applied_for=applied_for, **settings)

    with STATE_LOCK:
        state = templates_of(registry)
        if template.key in state.templates:
            raise TemplateAlreadyExistsException(
                f"The repository creation template with prefix '{prefix}' already exists in the registry with id "
                f"'{registry.account_id}'"
            )
        state.templates[template.key] = template
    LOG.info("repository creation template %s created in %s/%s", prefix, registry.account_id, registry.region_name)
    return template


def update_template(registry: Registry, prefix: str, **changes) -> RepositoryCreationTemplate:
    """Change the members that the request names. An omitted member (None) keeps its value.

    An empty string clears description, repositoryPolicy, lifecyclePolicy and customRoleArn.
    """
    with STATE_LOCK:
        current = get_template(registry, prefix)
        updated = dataclasses.replace(
            current,
            applied_for=list(current.applied_for),
            encryption_configuration=dict(current.encryption_configuration),
            resource_tags=list(current.resource_tags),
            image_tag_mutability_exclusion_filters=list(current.image_tag_mutability_exclusion_filters),
        )
        _apply_changes(registry, updated, **changes)
        updated.updated_at = clock.now()
        templates_of(registry).templates[updated.key] = updated
    LOG.info("repository creation template %s updated in %s/%s", prefix, registry.account_id, registry.region_name)
    return updated


def delete_template(registry: Registry, prefix: str) -> RepositoryCreationTemplate:
    with STATE_LOCK:
        template = get_template(registry, prefix)
        del templates_of(registry).templates[template.key]
    LOG.info("repository creation template %s deleted in %s/%s", prefix, registry.account_id, registry.region_name)
    return template


def get_template(registry: Registry, prefix: str) -> RepositoryCreationTemplate:
    template = templates_of(registry).templates.get(prefix_key(prefix))
    if template is None:
        raise TemplateNotFoundException(
            f"The repository creation template with prefix '{prefix}' does not exist in the registry with id "
            f"'{registry.account_id}'"
        )
    return template


def list_templates(registry: Registry, prefixes: list[str] | None = None) -> list[RepositoryCreationTemplate]:
    """Return the templates ordered by prefix, only those named in `prefixes` when given.

    A prefix without a template is left out rather than reported, because the model declares
    no TemplateNotFoundException for DescribeRepositoryCreationTemplates.
    """
    templates = templates_of(registry).templates
    if prefixes:
        requested_keys = {prefix_key(prefix) for prefix in prefixes}
        selected = [template for key, template in templates.items() if key in requested_keys]
    else:
        selected = list(templates.values())
    return sorted(selected, key=lambda template: template.prefix)


# Lookups for the features that create repositories


def matching_template(registry: Registry, repository_name: str, applied_for: str) -> RepositoryCreationTemplate | None:
    """Return the template that ECR applies to a new repository, or None for ECR's defaults.

    Only templates whose appliedFor lists `applied_for` (REPLICATION, PULL_THROUGH_CACHE or
    CREATE_ON_PUSH) take part. Of those, the one with the longest prefix that, followed by `/`,
    starts the repository name wins; the ROOT template applies when no prefix matches.
    """
    best, root = None, None
    for template in templates_of(registry).templates.values():
        if applied_for not in template.applied_for:
            continue
        if template.key == ROOT:
            root = template
        elif repository_name.startswith(template.key + "/") and (best is None or len(template.key) > len(best.key)):
            best = template
    return best or root


def create_repository_settings(template: RepositoryCreationTemplate | None, registry: Registry | None = None) -> dict:
    """Return the settings of a repository that ECR creates from `template` in `registry`.

    The keys image_tag_mutability, image_tag_mutability_exclusion_filters,
    encryption_configuration and resource_tags are keyword arguments of
    `Registry.create_repository`. The keys repository_policy_text and lifecycle_policy_text contain
    the policies to set on the new repository (None for no policy). Pop them before calling
    create_repository. With no template the result is ECR's defaults: MUTABLE tags, AES256
    encryption, no tags and no policies. With `registry`, KMS encryption names its key as
    CreateRepository reports it, which is the account's AWS managed key when the template names none.

    Raises TemplateNotApplicable when the template sets resource tags or KMS encryption without a
    customRoleArn, because ECR then fails to create the repository. Tags or a KMS key that a
    repository cannot take raise the errors of `repository_settings`, as CreateRepository would.
    """
    if template is None:
        return {
            "image_tag_mutability": "MUTABLE",
            "image_tag_mutability_exclusion_filters": [],
            "encryption_configuration": dict(repository_settings.DEFAULT_ENCRYPTION),
            "resource_tags": {},
            "repository_policy_text": None,
            "lifecycle_policy_text": None,
        }

    encryption = {"encryptionType": template.encryption_configuration["encryptionType"]}
    if template.encryption_configuration.get("kmsKey"):
        encryption["kmsKey"] = template.encryption_configuration["kmsKey"]
    uses_kms = encryption["encryptionType"] in repository_settings.KMS_ENCRYPTION_TYPES
    if (template.resource_tags or uses_kms) and not template.custom_role_arn:
        raise TemplateNotApplicable(
            f"The repository creation template with prefix '{template.prefix}' sets resource tags or KMS encryption "
            "but has no customRoleArn"
        )

    if registry is not None:
        place = repository_settings.Place(registry.partition, registry.region_name, registry.account_id)
        encryption = repository_settings.resolve_encryption(encryption, place)
    return {
        "image_tag_mutability": template.image_tag_mutability,
        "image_tag_mutability_exclusion_filters": [
            dict(item) for item in template.image_tag_mutability_exclusion_filters
        ],
        "encryption_configuration": encryption,
        "resource_tags": repository_settings.check_tags(template.resource_tags),
        "repository_policy_text": template.repository_policy or None,
        "lifecycle_policy_text": template.lifecycle_policy or None,
    }


# Validation


def _apply_changes(
    registry: Registry,
    template: RepositoryCreationTemplate,
    applied_for: list[str] | None = None,
    description: str | None = None,
    encryption_configuration: dict | None = None,
    resource_tags: list[dict] | None = None,
    image_tag_mutability: str | None = None,
    image_tag_mutability_exclusion_filters: list[dict] | None = None,
    repository_policy: str | None = None,
    lifecycle_policy: str | None = None,
    custom_role_arn: str | None = None,
) -> None:
    """Check the members that a request names, then set them on `template`.

    Every check runs before the first change, so a rejected request leaves the template as it was.
    """
    if resource_tags is not None:
        _check_resource_tags(resource_tags)
    changes_mutability = image_tag_mutability is not None or image_tag_mutability_exclusion_filters is not None
    if changes_mutability:
        mutability = image_tag_mutability or template.image_tag_mutability
        filters = image_tag_mutability_exclusion_filters
        if filters is None:
            # A new setting without filters keeps the stored filters only where they still apply.
            keeps_filters = mutability in repository_settings.WITH_EXCLUSION
            filters = template.image_tag_mutability_exclusion_filters if keeps_filters else []
        # The same rules, and messages, as CreateRepository and PutImageTagMutability.
        repository_settings.check_tag_mutability(mutability, filters)
    if repository_policy:
        policies.validate_repository_policy(repository_policy)
    if lifecycle_policy:
        # The same grammar and messages as PutLifecyclePolicy.
        lifecycle_policies.parse(lifecycle_policy)
    if custom_role_arn:
        _check_custom_role(registry, custom_role_arn)

    if applied_for is not None:
        template.applied_for = list(dict.fromkeys(applied_for))
    if description is not None:
        template.description = description or None
    if encryption_configuration is not None:
        template.encryption_configuration = dict(encryption_configuration)
    if resource_tags is not None:
        template.resource_tags = [{"Key": tag["Key"], "Value": tag["Value"]} for tag in resource_tags]
    if changes_mutability:
        template.image_tag_mutability = mutability
        template.image_tag_mutability_exclusion_filters = [dict(item) for item in filters]
    if repository_policy is not None:
        template.repository_policy = repository_policy or None
    if lifecycle_policy is not None:
        template.lifecycle_policy = lifecycle_policy or None
    if custom_role_arn is not None:
        template.custom_role_arn = custom_role_arn or None


def _invalid(member: str, detail: str) -> InvalidParameterException:
    return InvalidParameterException(f"Invalid parameter at '{member}' failed to satisfy constraint: '{detail}'")


def _check_resource_tags(tags: list[dict]) -> None:
    for tag in tags:
        # The limits that the resourceTags member documents, as the model itself sets none.
        too_long = len(tag["Key"]) > repository_settings.MAX_TAG_KEY_LENGTH
        if not tag["Key"] or too_long or len(tag["Value"]) > repository_settings.MAX_TAG_VALUE_LENGTH:
            raise _invalid("resourceTags", repository_settings.TAG_LENGTH_MESSAGE)


def _check_custom_role(registry: Registry, role_arn: str) -> None:
    match = ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise _invalid("customRoleArn", f"The customRoleArn '{role_arn}' is not a valid IAM role ARN")
    if match.group(1) != registry.account_id:
        raise _invalid(
            "customRoleArn",
            f"The customRoleArn '{role_arn}' must be a role in the registry's account '{registry.account_id}'",
        )


def create_from_template(registry: Registry, repository_name: str, applied_for: str) -> Repository | None:
    """Create a repository as ECR does on push, replication or pull through, from the matching template.

    Returns None when no template for `applied_for` matches the name, or when the template
    cannot be applied (it sets tags or KMS without a customRoleArn): then ECR creates nothing.
    """
    template = matching_template(registry, repository_name, applied_for)
    if template is None:
        return None
    try:
        settings = create_repository_settings(template, registry)
    except TemplateNotApplicable as error:
        LOG.warning("repository %s not created from a template: %s", repository_name, error)
        return None
    policy_text = settings.pop("repository_policy_text")
    lifecycle_text = settings.pop("lifecycle_policy_text")

    repository = registry.create_repository(repository_name, **settings)
    if policy_text:
        repository.policy_text = policy_text
    if lifecycle_text:
        lifecycle_policies.put_policy(registry, repository_name, lifecycle_text)
    LOG.info(
        "repository %s created in %s/%s from the template with prefix %s (%s)",
        repository_name, registry.account_id, registry.region_name, template.prefix, applied_for,
    )
    return repository
