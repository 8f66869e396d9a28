"""Helpers that several operation families share: the caller's registry, pagination, messages."""

import base64
import binascii
import json

from ecr_emulator.api.errors import InvalidParameterException
from ecr_emulator.backend.registry import Registry, registry_for
from ecr_emulator.core.context import RequestContext

DEFAULT_PAGE_SIZE = 100


def registry(context: RequestContext, registry_id: str | None = None) -> Registry:
    """Return the registry that `registryId` names, by default the caller's own."""
    return registry_for(registry_id or context.account_id, context.region)


def invalid_parameter(member: str, detail: str) -> InvalidParameterException:
    return InvalidParameterException(f"Invalid parameter at '{member}' failed to satisfy constraint: '{detail}'")


def reject_ids_with_paging(ids_member: str, ids, max_results, next_token) -> None:
    """Raise as ECR does when explicit ids are combined with maxResults or nextToken."""
    if ids and max_results is not None:
        raise invalid_parameter("maxResults", f"Cannot specify both {ids_member} and maxResults")
    if ids and next_token is not None:
        raise invalid_parameter("nextToken", f"Cannot specify both {ids_member} and nextToken")


def paginate(items: list, max_results: int | None, next_token: str | None, default_size: int = DEFAULT_PAGE_SIZE):
    """Return (page, next token) of `items`.

    The token is opaque to clients: base64 JSON of the offset of the next page.
    """
    start = _decode_token(next_token) if next_token else 0
    size = max_results or default_size
    page = items[start:start + size]
    end = start + len(page)
    token = _encode_token(end) if end < len(items) else None
    return page, token


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid_parameter("nextToken", "Invalid NextToken") from None
    if not isinstance(offset, int) or offset < 0:
        raise invalid_parameter("nextToken", "Invalid NextToken")
    return offset
