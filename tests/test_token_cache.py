"""Access tokens verified once are remembered, never beyond what a fresh
verification would accept."""

import time
import uuid

import pytest
from pydantic import SecretStr

from shared import settings as settings_module
from shared import tokens
from shared.settings import Settings
from shared.tokens import InvalidToken, decode_access_token, issue_access_token


def test_a_remembered_token_still_names_its_user(settings: Settings) -> None:
    user_id = uuid.uuid4()
    token = issue_access_token(user_id, "customer").token

    first = decode_access_token(token)
    again = decode_access_token(token)

    assert first == again
    assert (again.user_id, again.role) == (user_id, "customer")


def test_a_token_altered_after_it_was_remembered_is_refused(
    settings: Settings,
) -> None:
    token = issue_access_token(uuid.uuid4(), "customer").token
    decode_access_token(token)
    head, payload, signature = token.split(".")
    altered = ".".join([head, payload, signature[:-2] + "AA"])

    with pytest.raises(InvalidToken):
        decode_access_token(altered)


def test_a_remembered_token_expires_at_its_exp(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    remembered = tokens._VerifiedTokens(size=10)
    claims = tokens.AccessClaims(uuid.uuid4(), "customer", "jti")
    expires_at = int(time.time()) + 60
    remembered.put("token", claims, expires_at)
    assert remembered.get("token") == claims

    monkeypatch.setattr(time, "time", lambda: float(expires_at))

    assert remembered.get("token") is None


def test_rotating_a_secret_out_forgets_what_it_verified(
    settings: Settings,
) -> None:
    token = issue_access_token(uuid.uuid4(), "customer").token
    decode_access_token(token)
    rotated = settings.model_copy(update={"jwt_secret": SecretStr("r" * 40)})
    settings_module.configure(rotated)

    with pytest.raises(InvalidToken):
        decode_access_token(token)


def test_the_memory_is_bounded(settings: Settings) -> None:
    remembered = tokens._VerifiedTokens(size=3)
    claims = tokens.AccessClaims(uuid.uuid4(), "customer", "jti")
    for n in range(5):
        remembered.put(f"token-{n}", claims, int(time.time()) + 60)

    kept = [n for n in range(5) if remembered.get(f"token-{n}")]

    assert kept == [2, 3, 4]
