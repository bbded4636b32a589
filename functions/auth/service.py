"""Registration, login, refresh-token rotation and the caller's own account."""

import asyncio
import hashlib
import secrets
import uuid
from typing import Any
from uuid import UUID

from email_validator import EmailNotValidError

from functions.auth import throttle
from functions.auth.schemas import MeUpdate, RegisterRequest, TokenPair
from shared import accounts, db, outbox
from shared.accounts import User
from shared.auth import Role
from shared.db import AsyncConn
from shared.errors import Forbidden, Unauthorized
from shared.logs import get_logger
from shared.passwords import (
    Verification,
    spend_verification_time,
    verify_and_upgrade,
    verify_password,
)
from shared.settings import get_settings
from shared.sqlfile import load_queries
from shared.tokens import issue_access_token

log = get_logger(__name__)
queries = load_queries(__file__)

# 256 bits: a refresh token cannot be guessed, so a fast hash stores it safely.
REFRESH_TOKEN_BYTES = 32


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    detail = "The email or the password is wrong."


class AccountDisabled(Forbidden):
    code = "account_disabled"
    detail = "This account is disabled."


class WrongCurrentPassword(Forbidden):
    code = "invalid_credentials"
    detail = "Changing the password needs the right current_password."


class InvalidRefreshToken(Unauthorized):
    code = "invalid_token"
    detail = "The refresh token is not valid, has expired or was revoked."


class TokenReused(Unauthorized):
    code = "token_reused"
    detail = "This refresh token was already used; its sessions have been ended."


async def register(request: RegisterRequest) -> User:
    password_hash = await accounts.hash_in_thread(request.password)
    async with db.transaction() as conn:
        user = await accounts.insert_user(
            conn,
            email=request.email,
            full_name=request.full_name,
            role="customer",
            password_hash=password_hash,
        )
        welcome = {
            "user_id": str(user.id),
            "email": user.email,
            "full_name": user.full_name,
        }
        await outbox.write(conn, "user.registered", welcome)
    log.info("user.registered", extra={"user_id": str(user.id)})
    return user


async def login(email_text: str, password: str, client_ip: str) -> TokenPair:
    email = _login_email(email_text)
    async with db.transaction() as conn:
        await throttle.admit(conn, email, client_ip)
        cursor = await conn.execute(queries["account_by_email"], {"email": email})
        account = await cursor.fetchone()

    # The slow part runs with no connection held and off the event loop.
    verification = await asyncio.to_thread(_verify, password, account)
    if account is None or not verification.ok:
        log.info("auth.login_failed", extra={"client_ip": client_ip})
        raise InvalidCredentials()
    if not account["is_active"]:
        raise AccountDisabled()

    async with db.transaction() as conn:
        await throttle.forgive(conn, email)
        await conn.execute(
            queries["record_login"],
            {"id": account["id"], "new_hash": verification.new_hash},
        )
        pair = await _issue_pair(conn, account["id"], account["role"], uuid.uuid4())
    log.info("auth.logged_in", extra={"user_id": str(account["id"])})
    return pair


async def refresh(refresh_token: str) -> TokenPair:
    token_hash = _digest(refresh_token)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            queries["use_refresh_token"], {"token_hash": token_hash}
        )
        spent = await cursor.fetchone()
        if spent is not None:
            return await _issue_pair(
                conn, spent["user_id"], spent["role"], spent["family_id"]
            )
        cursor = await conn.execute(
            queries["revoke_family_if_used"], {"token_hash": token_hash}
        )
        reused = await cursor.fetchone() is not None

    # Raised after commit, so that the family stays revoked.
    if reused:
        log.warning("auth.refresh_token_reused")
        raise TokenReused()
    raise InvalidRefreshToken()


async def logout(refresh_token: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            queries["revoke_family_of_token"], {"token_hash": _digest(refresh_token)}
        )


async def me(user_id: UUID) -> User:
    return await accounts.get_user(user_id)


async def update_me(user_id: UUID, change: MeUpdate) -> User:
    if change.password is not None:
        await _check_current_password(user_id, change.current_password)
    password_hash = await accounts.hash_if_given(change.password)
    async with db.transaction() as conn:
        return await accounts.update_user(
            conn, user_id, full_name=change.full_name, password_hash=password_hash
        )


def _login_email(text: str) -> str:
    try:
        return accounts.normalise_email(text)
    except EmailNotValidError:
        return text.strip().lower()


def _verify(password: str, account: dict[str, Any] | None) -> Verification:
    if account is None:
        # An unknown email takes as long as a wrong password, so answer
        # times do not tell which emails have accounts.
        spend_verification_time()
        return Verification(ok=False)
    return verify_and_upgrade(password, account["password_hash"])


async def _check_current_password(user_id: UUID, current: str | None) -> None:
    async with db.transaction() as conn:
        cursor = await conn.execute(queries["password_hash_by_id"], {"id": user_id})
        row = await cursor.fetchone()
    if current is None or row is None:
        raise WrongCurrentPassword()
    if not await asyncio.to_thread(verify_password, current, row["password_hash"]):
        raise WrongCurrentPassword()


async def _issue_pair(
    conn: AsyncConn, user_id: UUID, role: Role, family_id: UUID
) -> TokenPair:
    refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    await conn.execute(
        queries["insert_refresh_token"],
        {
            "user_id": user_id,
            "family_id": family_id,
            "token_hash": _digest(refresh_token),
            "days": get_settings().refresh_token_days,
        },
    )
    access = issue_access_token(user_id, role)
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh_token,
        expires_in=access.expires_in,
    )


def _digest(refresh_token: str) -> bytes:
    return hashlib.sha256(refresh_token.encode()).digest()
