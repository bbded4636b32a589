"""Access tokens: short-lived HS256 JWTs signed from a keyring.

The current ``JWT_SECRET`` signs; secrets listed in ``JWT_PREVIOUS_SECRETS``
still verify. Each token names its key in the ``kid`` header, derived from
the secret itself, so no key ids need configuring.

PyJWT is imported on first use, not with this module: it loads
``cryptography`` whenever that is installed, which costs a cold start far more
than the public routes that never see a token should pay.
"""

import hashlib
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from shared.errors import Unauthorized
from shared.settings import Settings, get_settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "jti"]


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    role: str
    token_id: str
    issued_at: int = 0


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


class InvalidToken(Unauthorized):
    code = "invalid_token"
    detail = "The access token is missing, expired or not valid."


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@lru_cache(maxsize=8)
def _keyring(current: str, previous: tuple[str, ...]) -> dict[str, str]:
    return {key_id(secret): secret for secret in (*previous, current)}


def keyring(settings: Settings) -> dict[str, str]:
    previous = tuple(s.get_secret_value() for s in settings.jwt_previous_secrets)
    return _keyring(settings.jwt_key, previous)


def issue_access_token(user_id: UUID, role: str) -> IssuedToken:
    settings = get_settings()
    now = int(time.time())
    expires_in = settings.access_token_minutes * 60
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + expires_in,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    secret = settings.jwt_key
    import jwt

    token = jwt.encode(
        claims, secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)}
    )
    return IssuedToken(token, expires_in)


def decode_access_token(token: str) -> AccessClaims:
    import jwt

    settings = get_settings()
    try:
        secret = keyring(settings)[jwt.get_unverified_header(token)["kid"]]
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
        return AccessClaims(
            UUID(claims["sub"]), str(claims["role"]), claims["jti"], int(claims["iat"])
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken() from exc
