"""Access of callers to a registry of another account, decided by ECR's resource-based policies.

A request whose registryId names another account than the caller's is allowed only where a
policy of that registry allows the caller's account root principal the operation's action:
the repository policy for operations on a repository, else the registry policy. An explicit
Deny wins. Callers of the registry's own account are not checked, because IAM identity policies
are not emulated.
"""

import json
import logging

from ecr_emulator.backend import policies
from ecr_emulator.backend.registry import registry_for
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
    repository = registry.repositories.get(params.get("repositoryName") or "")
    if repository is not None:
        resource = repository.arn
        policy_text = repository.policy_text
    else:
        resource = f"arn:{registry.partition}:ecr:{registry.region_name}:{registry_id}:repository/{params.get('repositoryName') or '*'}"
        policy_text = policies.registry_policy_text(registry)

    if policy_text and policies.evaluate(json.loads(policy_text), principal, action, resource) == "Allow":
        return
    LOG.debug("denied %s of %s on %s", action, principal, resource)
    raise AccessDeniedException(
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        "because no resource-based policy allows the " + action + " action"
    )


dispatch.authorizer = authorize
