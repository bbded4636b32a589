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


class _VerifiedTokens:
    """Tokens whose signature and claims were already checked, until they
    expire: a buyer sends the same token with every request, and checking it
    again (base64, JSON, HMAC) is the costliest Python step of a purchase.
    Keyed by the whole token, so only the very bytes that were verified hit;
    bounded, the oldest entry making room; emptied when the settings (and so
    the keyring) change."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[str, tuple[AccessClaims, int]] = {}
        self._settings: Settings | None = None

    def follow(self, settings: Settings) -> None:
        if settings is not self._settings:
            self._entries = {}
            self._settings = settings

    def get(self, token: str) -> AccessClaims | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        claims, expires_at = entry
        if time.time() >= expires_at:  # PyJWT's rule: valid while now < exp
            self._entries.pop(token, None)
            return None
        return claims

    def put(self, token: str, claims: AccessClaims, expires_at: int) -> None:
        if len(self._entries) >= self._size:
            self._entries.pop(next(iter(self._entries)), None)
        self._entries[token] = (claims, expires_at)


_verified = _VerifiedTokens(size=10_000)


def decode_access_token(token: str) -> AccessClaims:
    settings = get_settings()
    _verified.follow(settings)
    claims = _verified.get(token)
    if claims is None:
        claims, expires_at = _verify(token, settings)
        _verified.put(token, claims, expires_at)
    return claims


def _verify(token: str, settings: Settings) -> tuple[AccessClaims, int]:
    import jwt

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
        verified = AccessClaims(
            UUID(claims["sub"]), str(claims["role"]), claims["jti"], int(claims["iat"])
        )
        return verified, int(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken() from exc
