"""CreatePullThroughCacheRule, DescribePullThroughCacheRules, UpdatePullThroughCacheRule,
DeletePullThroughCacheRule and ValidatePullThroughCacheRule."""

from ecr_emulator.api import common
from ecr_emulator.backend import pull_through
from ecr_emulator.backend.pull_through import PullThroughCacheRule
from ecr_emulator.protocol.dispatch import handler


def rule_description(rule: PullThroughCacheRule) -> dict:
    return {
        "ecrRepositoryPrefix": rule.ecr_repository_prefix,
        "upstreamRegistryUrl": rule.upstream_registry_url,
        "createdAt": rule.created_at,
        "registryId": rule.registry_id,
        "credentialArn": rule.credential_arn,
        "customRoleArn": rule.custom_role_arn,
        "upstreamRepositoryPrefix": rule.upstream_repository_prefix,
        "upstreamRegistry": rule.upstream_registry,
        "updatedAt": rule.updated_at,
    }


@handler("CreatePullThroughCacheRule")
def create_pull_through_cache_rule(
    context,
    ecr_repository_prefix,
    upstream_registry_url,
    registry_id=None,
    upstream_registry=None,
    credential_arn=None,
    custom_role_arn=None,
    upstream_repository_prefix=None,
    **kwargs,
):
    """Create a rule after checking its upstream, secret and role as ECR does.

    Not emulated: the Regions without pull through cache (China, AWS GovCloud (US)) accept rules.
    Not emulated: the customRoleArn role is not looked up in IAM.
    """
    registry = common.registry(context, registry_id)
    rule = pull_through.create_rule(
        registry,
        ecr_repository_prefix,
        upstream_registry_url,
        upstream_registry=upstream_registry,
        credential_arn=credential_arn,
        custom_role_arn=custom_role_arn,
        upstream_repository_prefix=upstream_repository_prefix,
    )
    description = rule_description(rule)
    del description["updatedAt"]
    return description


@handler("DescribePullThroughCacheRules")
def describe_pull_through_cache_rules(
    context, registry_id=None, ecr_repository_prefixes=None, next_token=None, max_results=None, **kwargs
):
    registry = common.registry(context, registry_id)
    rules = pull_through.list_rules(registry, ecr_repository_prefixes)
    page, token = common.paginate(rules, max_results, next_token)
    return {"pullThroughCacheRules": [rule_description(rule) for rule in page], "nextToken": token}


@handler("UpdatePullThroughCacheRule")
def update_pull_through_cache_rule(
    context, ecr_repository_prefix, registry_id=None, credential_arn=None, custom_role_arn=None, **kwargs
):
    registry = common.registry(context, registry_id)
    rule = pull_through.update_rule(
        registry, ecr_repository_prefix, credential_arn=credential_arn, custom_role_arn=custom_role_arn
    )
    return {
        "ecrRepositoryPrefix": rule.ecr_repository_prefix,
        "registryId": rule.registry_id,
        "updatedAt": rule.updated_at,
        "credentialArn": rule.credential_arn,
        "customRoleArn": rule.custom_role_arn,
        "upstreamRepositoryPrefix": rule.upstream_repository_prefix,
    }


@handler("DeletePullThroughCacheRule")
def delete_pull_through_cache_rule(context, ecr_repository_prefix, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    rule = pull_through.delete_rule(registry, ecr_repository_prefix)
    description = rule_description(rule)
    del description["upstreamRegistry"], description["updatedAt"]
    return description


@handler("ValidatePullThroughCacheRule")
def validate_pull_through_cache_rule(context, ecr_repository_prefix, registry_id=None, **kwargs):
    """Check the rule's secret: present, readable, and a JSON object with username and accessToken.

    Not emulated: signing in to the upstream registry; isValid reflects only the checks of the secret.
    """
    registry = common.registry(context, registry_id)
    rule, failure = pull_through.validate_rule(registry, ecr_repository_prefix)
    return {
        "ecrRepositoryPrefix": rule.ecr_repository_prefix,
        "registryId": rule.registry_id,
        "upstreamRegistryUrl": rule.upstream_registry_url,
        "credentialArn": rule.credential_arn,
        "customRoleArn": rule.custom_role_arn,
        "upstreamRepositoryPrefix": rule.upstream_repository_prefix,
        "isValid": failure is None,
        "failure": failure,
    }
