"""Authorization tokens as GetAuthorizationToken issues them and /v2/ checks them.

The password that `aws ecr get-login-password` prints has ECR's outer form: base64 of the JSON
object `{"payload", "datakey", "version": "2", "type": "DATA_KEY", "expiration"}`. Here the
payload is base64 JSON naming the account, region and expiry, and the data key is an HMAC-SHA256
of the payload under a secret of this emulator, so a token cannot be forged or moved to another
account or region. The authorization token is base64 of `AWS:<password>`, which is exactly the
Basic credential docker sends after `docker login -u AWS`.
"""

import base64
import binascii
import dataclasses
import datetime
import hashlib
import hmac
import json
import os
import secrets
import urllib.parse

from ecr_emulator.core import clock

TOKEN_LIFETIME = datetime.timedelta(hours=12)
# How long a GetDownloadUrlForLayer URL stays valid; ECR does not document the lifetime of its own.
LAYER_URL_LIFETIME = datetime.timedelta(hours=1)
LAYER_URL_PREFIX = "/_emulator/layers"
USERNAME = "AWS"
# Basic credentials whose token was verified, kept so that each request of a push does not decode
# and sign the token again. The cache is emptied when it is full.
VERIFIED_CACHE_SIZE = 1024


class InvalidToken(ValueError):
    """The credential is not a token of this emulator, or it has expired."""


class ExpiredToken(InvalidToken):
    """The token was issued by this emulator, but its 12 hours are over."""


@dataclasses.dataclass(frozen=True)
class Token:
    account_id: str
    region: str
    expires_at: datetime.datetime
    password: str

    @property
    def authorization_token(self) -> str:
        return base64.b64encode(f"{USERNAME}:{self.password}".encode()).decode()


class TokenAuthority:
    """Issues and verifies tokens with one secret; give it a file to keep tokens valid across restarts."""

    def __init__(self, secret_path: str | None = None):
        self._secret = _load_secret(secret_path) if secret_path else secrets.token_bytes(32)
        self._verified: dict[str, Token] = {}

    def issue(self, account_id: str, region: str) -> Token:
        expires_at = clock.now().replace(microsecond=0) + TOKEN_LIFETIME
        claims = {"accountId": account_id, "region": region, "expiration": int(expires_at.timestamp())}
        payload = base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()
        envelope = {
            "payload": payload,
            "datakey": self._sign(payload),
            "version": "2",
            "type": "DATA_KEY",
            "expiration": claims["expiration"],
        }
        password = base64.b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode()
        return Token(account_id, region, expires_at, password)

    def verify_password(self, password: str) -> Token:
        """Return the token that `password` carries; raise InvalidToken if forged, malformed or expired."""
        try:
            envelope = json.loads(base64.b64decode(password, validate=True))
            payload = envelope["payload"]
            signature = envelope["datakey"]
            claims = json.loads(base64.b64decode(payload, validate=True))
            account_id, region, expiration = claims["accountId"], claims["region"], int(claims["expiration"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise InvalidToken("the password is not an ECR authorization token") from None
        if not isinstance(signature, str) or not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidToken("the token was not issued by this emulator")
        expires_at = datetime.datetime.fromtimestamp(expiration, datetime.timezone.utc)
        if clock.now() >= expires_at:
            raise ExpiredToken(f"the token expired at {expires_at.isoformat()}")
        return Token(account_id, region, expires_at, password)

    def verify_basic(self, credentials: str) -> Token:
        """Check the base64 `user:password` of a Basic Authorization header."""
        token = self._verified.get(credentials)
        if token is None:
            token = self._decode_and_verify_basic(credentials)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[credentials] = token
        elif clock.now() >= token.expires_at:
            raise ExpiredToken(f"the token expired at {token.expires_at.isoformat()}")
        return token

    def _decode_and_verify_basic(self, credentials: str) -> Token:
        try:
            username, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidToken("the Basic credentials are not base64 of user:password") from None
        if username != USERNAME:
            raise InvalidToken(f"the user name must be {USERNAME}, not {username!r}")
        return self.verify_password(password)

    def layer_url(self, account_id: str, region: str, repository_name: str, digest: str) -> str:
        """Return a URL that downloads one layer without credentials until it expires, like ECR's presigned URL."""
        from ecr_emulator.backend import runtime

        expires = int((clock.now() + LAYER_URL_LIFETIME).timestamp())
        path = f"{LAYER_URL_PREFIX}/{account_id}/{region}/{repository_name}/blobs/{digest}"
        # Expires is an absolute time in epoch seconds, as in S3's query-string authentication.
        query = urllib.parse.urlencode({"Expires": expires, "Signature": self._sign(f"{path}?{expires}")})
        return f"{runtime.proxy_endpoint(account_id, region)}{path}?{query}"

    def verify_layer_url(self, path: str, expires: str, signature: str) -> None:
        """Raise InvalidToken unless `path` and `expires` carry this emulator's signature and have not expired."""
        if not hmac.compare_digest(signature or "", self._sign(f"{path}?{expires}")):
            raise InvalidToken("the layer URL's signature does not match")
        if not expires.isdigit() or clock.now().timestamp() >= int(expires):
            raise InvalidToken("the layer URL has expired")

    def _sign(self, payload: str) -> str:
        return base64.b64encode(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()).decode()


def _load_secret(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            secret = stream.read()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(secret)
    return secret
