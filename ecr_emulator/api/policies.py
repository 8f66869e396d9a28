"""Repository policies (Set/Get/DeleteRepositoryPolicy) and the registry policy (Put/Get/DeleteRegistryPolicy)."""

from ecr_emulator.api import common
from ecr_emulator.backend import policies
from ecr_emulator.protocol.dispatch import handler


@handler("SetRepositoryPolicy")
def set_repository_policy(context, repository_name, policy_text, registry_id=None, force=False, **kwargs):
    """Not emulated: the lockout guard takes the caller to be the account's root principal, not the IAM user or role behind the access key.
    Not emulated: ECR rejects a policy that names an IAM principal that does not exist. Any well-formed principal ARN is accepted.
    Not emulated: policies decide only for callers of other accounts, as IAM identity policies are not emulated.
    """
    registry = common.registry(context, registry_id)
    caller = policies.caller_principal(context.partition, context.account_id)
    repository = policies.set_repository_policy(registry, repository_name, policy_text, caller, bool(force))
    return {"registryId": registry.account_id, "repositoryName": repository.name, "policyText": repository.policy_text}


@handler("GetRepositoryPolicy")
def get_repository_policy(context, repository_name, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    text = policies.get_repository_policy(registry, repository_name)
    return {"registryId": registry.account_id, "repositoryName": repository_name, "policyText": text}


@handler("DeleteRepositoryPolicy")
def delete_repository_policy(context, repository_name, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    text = policies.delete_repository_policy(registry, repository_name)
    return {"registryId": registry.account_id, "repositoryName": repository_name, "policyText": text}


@handler("PutRegistryPolicy")
def put_registry_policy(context, policy_text, **kwargs):
    """Not emulated: ECR rejects a policy that names an IAM principal that does not exist. Any well-formed principal ARN is accepted.
    Not emulated: the registry policy decides only for callers of other accounts, as IAM identity policies are not emulated.
    """
    registry = common.registry(context)
    text = policies.put_registry_policy(registry, policy_text)
    return {"registryId": registry.account_id, "policyText": text}


@handler("GetRegistryPolicy")
def get_registry_policy(context, **kwargs):
    registry = common.registry(context)
    return {"registryId": registry.account_id, "policyText": policies.get_registry_policy(registry)}


@handler("DeleteRegistryPolicy")
def delete_registry_policy(context, **kwargs):
    registry = common.registry(context)
    return {"registryId": registry.account_id, "policyText": policies.delete_registry_policy(registry)}
