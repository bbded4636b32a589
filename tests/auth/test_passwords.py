"""Password storage: argon2id at OWASP's floor, old hashes upgraded on login,
and unknown emails costing one verification."""

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from passlib.hash import bcrypt

from functions.auth import service
from shared.passwords import hash_password, verify_password
from tests.auth.conftest import Login
from tests.conftest import TestUser

Query = Callable[..., list[tuple[Any, ...]]]


def stored_hash(query: Query, user: TestUser) -> str:
    [(password_hash,)] = query("SELECT password_hash FROM users WHERE id = %s", user.id)
    return str(password_hash)


def test_new_hashes_are_argon2id_at_or_above_owasps_minimum() -> None:
    parameters = hash_password("secret password").split("$")[3]

    settings = dict(part.split("=") for part in parameters.split(","))
    assert int(settings["m"]) >= 19 * 1024
    assert int(settings["t"]) >= 2
    assert settings["p"] == "1"


def test_a_hash_verifies_only_its_password() -> None:
    password_hash = hash_password("secret password")

    assert verify_password("secret password", password_hash)
    assert not verify_password("Secret password", password_hash)


@pytest.mark.parametrize(
    "old_hash",
    [
        bcrypt.using(rounds=4).hash("old password"),
        PasswordHasher(
            time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID
        ).hash("old password"),
    ],
    ids=["bcrypt", "weaker-argon2id"],
)
def test_an_old_hash_logs_in_and_is_replaced_by_a_current_one(
    login: Login, customer: TestUser, query: Query, old_hash: str
) -> None:
    query("UPDATE users SET password_hash = %s WHERE id = %s", old_hash, customer.id)

    assert login(customer.email, "old password").status_code == 200

    upgraded = stored_hash(query, customer)
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("old password", upgraded)


def test_a_failed_login_leaves_an_old_hash_alone(
    login: Login, customer: TestUser, query: Query
) -> None:
    old_hash = bcrypt.using(rounds=4).hash("old password")
    query("UPDATE users SET password_hash = %s WHERE id = %s", old_hash, customer.id)

    assert login(customer.email, "wrong password").status_code == 401

    assert stored_hash(query, customer) == old_hash


def test_an_unknown_email_still_spends_one_verification(
    login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    spent: list[None] = []
    monkeypatch.setattr(service, "spend_verification_time", lambda: spent.append(None))

    assert login("nobody@example.com", "some password").status_code == 401

    assert spent == [None]
