"""GetAuthorizationToken."""

from ecr_emulator.backend import runtime
from ecr_emulator.protocol.dispatch import handler


@handler("GetAuthorizationToken")
def get_authorization_token(context, registry_ids=None, **kwargs):
    # registryIds is deprecated in ECR: one token serves every registry the caller may reach.
    token = runtime.current().tokens.issue(context.account_id, context.region)
    return {
        "authorizationData": [
            {
                "authorizationToken": token.authorization_token,
                "expiresAt": token.expires_at,
                "proxyEndpoint": runtime.proxy_endpoint(registry_id, context.region),
            }
            for registry_id in registry_ids or [context.account_id]
        ]
    }
