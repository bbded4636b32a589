"""Creating administrators: the first one at start-up, more from the CLI."""

import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError

from shared import accounts
from shared.db import SyncConn, sync_transaction
from shared.locks import LockClass
from shared.logs import get_logger
from shared.passwords import hash_password
from shared.settings import Settings, SettingsError
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)


@dataclass(frozen=True)
class NewAdmin:
    email: str
    password: str
    password_generated: bool


def normalise_email(email: str) -> str:
    try:
        return accounts.normalise_email(email)
    except EmailNotValidError as exc:
        raise SettingsError(f"not a valid email address: {email}") from exc


def ensure_first_admin(settings: Settings) -> NewAdmin | None:
    """Create the configured admin when the database has no active admin."""
    with sync_transaction() as conn:
        conn.execute(queries["lock_admin_bootstrap"], {"lock_class": LockClass.USER})
        row = conn.execute(queries["active_admin_exists"]).fetchone()
        if row is not None and row["exists"]:
            return None
        admin = _new_admin(settings)
        _upsert_admin(conn, admin)
    return admin


def create_admin(email: str, password: str) -> None:
    admin = NewAdmin(normalise_email(email), password, password_generated=False)
    with sync_transaction() as conn:
        _upsert_admin(conn, admin)


def _new_admin(settings: Settings) -> NewAdmin:
    email = normalise_email(settings.admin_email)
    if settings.admin_password is not None:
        return NewAdmin(email, settings.admin_password.get_secret_value(), False)
    return NewAdmin(email, secrets.token_urlsafe(12), password_generated=True)


def _upsert_admin(conn: SyncConn, admin: NewAdmin) -> None:
    row = conn.execute(
        queries["upsert_admin"],
        {
            "email": admin.email,
            "full_name": "Administrator",
            "password_hash": hash_password(admin.password),
        },
    ).fetchone()
    assert row is not None
    conn.execute(queries["revoke_refresh_tokens"], {"user_id": row["id"]})
    log.info("admin.created", extra={"email": admin.email})
