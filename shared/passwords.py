"""Password hashing: argon2id, at or above OWASP's minimum parameters.

passlib and argon2 are loaded on the first hash, not at import: only the
routes that take a password need them, and every cold start would pay.
"""

from functools import cache
from typing import Any


@cache
def _context() -> Any:
    from passlib.context import CryptContext

    # OWASP's floor for argon2id is 19 MiB, two passes, one lane; these settings
    # keep one hash well under a second on a small Lambda.
    return CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=19 * 1024,
        argon2__time_cost=2,
        argon2__parallelism=1,
    )


def hash_password(password: str) -> str:
    return str(_context().hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    return bool(_context().verify(password, password_hash))
