"""Password hashing: argon2id, at or above OWASP's minimum parameters.

Hashes from before (bcrypt, or argon2id with weaker parameters) still verify,
and :func:`verify_and_upgrade` hands back a fresh hash to store in their
place, so accounts move to the current parameters as their owners log in.

passlib and argon2 are loaded on the first hash, not at import: only the
routes that take a password need them, and every cold start would pay.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any


@cache
def _context() -> Any:
    from passlib.context import CryptContext

    # OWASP's floor for argon2id is 19 MiB, two passes, one lane; these settings
    # keep one hash well under a second on a small Lambda.
    return CryptContext(
        schemes=["argon2", "bcrypt"],
        deprecated=["bcrypt"],
        argon2__type="ID",
        argon2__memory_cost=19 * 1024,
        argon2__time_cost=2,
        argon2__parallelism=1,
    )


@dataclass(frozen=True)
class Verification:
    ok: bool
    # Set when the stored hash is outdated and this one should replace it.
    new_hash: str | None = None


def hash_password(password: str) -> str:
    return str(_context().hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    return verify_and_upgrade(password, password_hash).ok


def verify_and_upgrade(password: str, password_hash: str) -> Verification:
    try:
        ok, new_hash = _context().verify_and_update(password, password_hash)
    except ValueError:
        # An unusable hash (an anonymised account) must cost what a real
        # one does, or its answer time would set it apart.
        spend_verification_time()
        return Verification(ok=False)
    return Verification(bool(ok), new_hash if ok else None)


def spend_verification_time() -> None:
    """Take as long as one verification, for logins with an unknown email."""
    _context().dummy_verify()
