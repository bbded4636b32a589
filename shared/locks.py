"""Namespaces for advisory lock keys.

Advisory locks here always take two 32-bit keys: a class from this list and
the key of the object within it, so that locks of different kinds never
collide. The same numbers are used by the stored procedures in ``shared/sql``.
"""

from enum import IntEnum


class LockClass(IntEnum):
    MIGRATIONS = 1
    TICKET_TYPE = 2
    EVENT = 3
    SEAT = 4
    IDEMPOTENCY = 5
    USER = 6
    LOGIN_EMAIL = 7
    LOGIN_ADDRESS = 8
