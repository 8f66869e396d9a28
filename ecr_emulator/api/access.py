"""Access of callers to a registry of another account, decided by ECR's resource-based policies.

A request whose registryId names another account than the caller's is allowed only where a
policy of that registry allows the caller's account root principal the operation's action: the
repository policy of each repository the request names, or the registry policy, which ECR
evaluates on every request under the default REGISTRY_POLICY_SCOPE V2. An explicit Deny in
either wins. Callers of the registry's own account are not checked, because IAM identity
policies are not emulated.
"""

import json
import logging

from ecr_emulator.backend import policies
from ecr_emulator.backend.registry import Registry, registry_for
from ecr_emulator.protocol import dispatch
from ecr_emulator.protocol.errors import AccessDeniedException

LOG = logging.getLogger(__name__)


def authorize(context, operation_name: str, params: dict) -> None:
    registry_id = params.get("registryId")
    if not registry_id or registry_id == context.account_id:
        return

    registry = registry_for(registry_id, context.region)
    action = f"ecr:{operation_name}"
    principal = policies.caller_principal(context.partition, context.account_id)
    names = params.get("repositoryNames") or [params.get("repositoryName")]
    for name in names:
        check(registry, principal, action, name)


def check(registry: Registry, principal: str, action: str, repository_name: str | None) -> None:
    """Raise AccessDeniedException unless a policy of `registry` allows `principal` the action on the repository."""
    repository = registry.repositories.get(repository_name or "")
    resource = (
        repository.arn
        if repository is not None
        else f"arn:{registry.partition}:ecr:{registry.region_name}:{registry.account_id}:repository/{repository_name or '*'}"
    )
    texts = [repository.policy_text if repository is not None else None, policies.registry_policy_text(registry)]
    decisions = [policies.evaluate(json.loads(text), principal, action, resource) for text in texts if text]

    if "Deny" in decisions:
        reason = "with an explicit deny in a resource-based policy"
    elif "Allow" in decisions:
        return
    else:
        reason = f"because no resource-based policy allows the {action} action"
    LOG.debug("denied %s of %s on %s", action, principal, resource)
    denial = f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
    error = AccessDeniedException(f"{denial} {reason}")
    # docker shows ECR's /v2/ denial without the reason.
    error.registry_message = denial
    raise error


dispatch.authorizer = authorize
