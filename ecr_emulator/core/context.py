"""The request context: who calls, in which account and region, and which operation."""

import dataclasses
import os
import re
import sys
import uuid

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclasses.dataclass
class RequestContext:
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION
    access_key_id: str | None = None
    operation: str | None = None
    request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"


def default_account_id() -> str:
    """Return the account of callers whose key names none: MOTO_ACCOUNT_ID, as moto uses it."""
    return os.environ.get("MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID


def account_for_access_key(access_key_id: str | None) -> str:
    """Resolve the account that owns an access key.

    An access key id of exactly 12 digits names its account, so that multi-account tests work from
    the aws CLI. A key that moto's IAM or STS issued belongs to the account that issued it. Any other
    key belongs to the default account.
    """
    if not access_key_id:
        return default_account_id()
    if _ACCOUNT_ID.match(access_key_id):
        return access_key_id
    # moto keeps the keys it issued in its IAM backends; when moto's IAM was never imported, no key
    # can have been issued by it, and importing it here would cost every request.
    if "moto.iam.models" in sys.modules:
        from moto.iam.models import get_account_id_from

        account_id = get_account_id_from(access_key_id)
        if account_id != DEFAULT_ACCOUNT_ID:
            return account_id
    return default_account_id()


def context_from_authorization(authorization: str | None, operation: str | None = None) -> RequestContext:
    """Build the context of an API request from its SigV4 Authorization header.

    The signature is not verified: like moto, the emulator trusts the credential scope.
    """
    match = _CREDENTIAL_SCOPE.search(authorization or "")
    if not match:
        return RequestContext(account_id=default_account_id(), operation=operation)
    access_key_id, region = match.groups()
    return RequestContext(
        account_id=account_for_access_key(access_key_id),
        region=region,
        access_key_id=access_key_id,
        operation=operation,
    )
