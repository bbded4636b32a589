"""Access tokens: verified by PyJWT with pinned rules, and remembered once
verified, never beyond what a fresh verification would accept."""

import base64
import time
import uuid
from typing import Any

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


def signed(settings: Settings, **changes: Any) -> str:
    """A token as issue_access_token makes it, with some claims or header
    fields changed (None removes one)."""
    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "role": "customer",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": "j",
    }
    header_changes = changes.pop("headers", {})
    algorithm = changes.pop("algorithm", "HS256")
    secret = changes.pop("secret", settings.jwt_key)
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {"kid": tokens.key_id(settings.jwt_key), **header_changes}
    return jwt.encode(claims, secret, algorithm=algorithm, headers=headers)


def test_a_token_made_as_issued_is_accepted(settings: Settings) -> None:
    decode_access_token(signed(settings))


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 1},
        {"iat": int(time.time()) + 600},
        {"nbf": int(time.time()) + 600},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"jti": None},
        {"sub": None},
        {"sub": "not-a-uuid"},
        {"exp": "tomorrow"},
        {"algorithm": "HS384"},
        {"secret": "s" * 40},
        {"headers": {"kid": "unknown"}},
    ],
    ids=str,
)
def test_a_token_breaking_any_rule_is_refused(
    settings: Settings, changes: dict[str, Any]
) -> None:
    with pytest.raises(InvalidToken):
        decode_access_token(signed(settings, **changes))


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.", "W10.W10.c2ln"],
)
def test_malformed_tokens_are_refused(settings: Settings, token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_access_token(token)


def test_an_unsigned_token_is_refused(settings: Settings) -> None:
    valid = signed(settings)
    head = base64.urlsafe_b64encode(b'{"alg":"none","kid":"x"}').rstrip(b"=")
    unsigned = head.decode() + "." + valid.split(".")[1] + "."

    with pytest.raises(InvalidToken):
        decode_access_token(unsigned)
