"""Authorization tokens: ECR's envelope, signature, account and region binding, expiry."""

import base64
import datetime
import json

import pytest
from freezegun import freeze_time

from ecr_emulator.backend.auth import TOKEN_LIFETIME, InvalidToken, TokenAuthority


def test_password_has_ecr_envelope():
    token = TokenAuthority().issue("123456789012", "us-east-1")

    envelope = json.loads(base64.b64decode(token.password))

    assert set(envelope) == {"payload", "datakey", "version", "type", "expiration"}
    assert envelope["version"] == "2"
    assert envelope["type"] == "DATA_KEY"
    assert base64.b64decode(token.authorization_token).decode() == f"AWS:{token.password}"


def test_token_valid_for_twelve_hours():
    with freeze_time("2026-01-01T00:00:00Z"):
        authority = TokenAuthority()
        token = authority.issue("123456789012", "us-east-1")

        assert token.expires_at == datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.timezone.utc)
        assert authority.verify_basic(token.authorization_token).account_id == "123456789012"

    with freeze_time("2026-01-01T00:00:00Z") as frozen:
        frozen.tick(TOKEN_LIFETIME)
        with pytest.raises(InvalidToken):
            authority.verify_basic(token.authorization_token)


def test_token_of_another_emulator_refused():
    token = TokenAuthority().issue("123456789012", "us-east-1")

    with pytest.raises(InvalidToken):
        TokenAuthority().verify_password(token.password)


def test_tampered_account_refused():
    authority = TokenAuthority()
    token = authority.issue("123456789012", "us-east-1")
    envelope = json.loads(base64.b64decode(token.password))
    claims = json.loads(base64.b64decode(envelope["payload"]))
    claims["accountId"] = "999999999999"
    envelope["payload"] = base64.b64encode(json.dumps(claims).encode()).decode()
    forged = base64.b64encode(json.dumps(envelope).encode()).decode()

    with pytest.raises(InvalidToken):
        authority.verify_password(forged)


def test_user_must_be_aws():
    authority = TokenAuthority()
    token = authority.issue("123456789012", "us-east-1")
    credentials = base64.b64encode(f"root:{token.password}".encode()).decode()

    with pytest.raises(InvalidToken):
        authority.verify_basic(credentials)


def test_secret_file_keeps_tokens_valid(tmp_path):
    path = str(tmp_path / "secret")
    token = TokenAuthority(path).issue("123456789012", "eu-west-1")

    restarted = TokenAuthority(path).verify_password(token.password)

    assert restarted.region == "eu-west-1"
