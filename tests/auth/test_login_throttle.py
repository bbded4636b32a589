"""Repeated failed logins answer 429 per email and per client address."""

import importlib
import json
import threading
from collections.abc import Callable

from shared.settings import Settings
from tests.auth.conftest import Login
from tests.conftest import TestUser
from tests.lambda_events import FakeLambdaContext, http_api_event


def fail_times(login: Login, email: str, times: int) -> None:
    for _ in range(times):
        assert login(email, "wrong password").status_code == 401


def test_sixth_login_for_one_email_is_429_even_with_the_right_password(
    login: Login, customer: TestUser
) -> None:
    fail_times(login, customer.email, 5)

    response = login(customer.email, customer.password)

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60


def test_unknown_emails_are_throttled_like_known_ones(login: Login) -> None:
    fail_times(login, "nobody@example.com", 5)

    assert login("nobody@example.com", "wrong password").status_code == 429


def test_concurrent_guesses_cannot_slip_past_the_limit(
    login: Login, customer: TestUser
) -> None:
    start = threading.Barrier(20)
    statuses: list[int] = []

    def guess() -> None:
        start.wait()
        statuses.append(login(customer.email, "wrong password").status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401] * 5 + [429] * 15


def test_a_successful_login_clears_the_emails_count(
    login: Login, customer: TestUser
) -> None:
    fail_times(login, customer.email, 4)
    assert login(customer.email, customer.password).status_code == 200

    fail_times(login, customer.email, 4)

    assert login(customer.email, customer.password).status_code == 200


def test_the_count_is_per_email_in_any_case(
    login: Login, customer: TestUser, make_user: Callable[..., TestUser]
) -> None:
    other = make_user()
    fail_times(login, customer.email.upper(), 5)

    assert login(customer.email, customer.password).status_code == 429
    assert login(other.email, other.password).status_code == 200


def test_one_address_guessing_many_emails_is_429(
    login: Login, customer: TestUser, configure: Callable[..., Settings]
) -> None:
    configure(login_attempts_per_address=3)
    for number in range(3):
        assert login(f"guess{number}@example.com", "guess").status_code == 401

    response = login(customer.email, customer.password)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_forwarded_for_header_does_not_escape_the_address_limit(
    login: Login, configure: Callable[..., Settings]
) -> None:
    configure(login_attempts_per_address=2)
    fail_times(login, "a@example.com", 1)
    fail_times(login, "b@example.com", 1)

    response = login(
        "c@example.com", "guess", headers={"X-Forwarded-For": "198.51.100.7"}
    )

    assert response.status_code == 429


def test_in_lambda_the_gateways_source_ip_is_the_address(
    login: Login, customer: TestUser, configure: Callable[..., Settings]
) -> None:
    configure(login_attempts_per_address=2)
    fail_times(login, "a@example.com", 1)
    fail_times(login, "b@example.com", 1)
    body = {"email": customer.email, "password": customer.password}

    # The same limit, but the request arrives from another address.
    handler = importlib.import_module("functions.auth.handler").handler
    answer = handler(
        http_api_event("POST", "/auth/login", body=body), FakeLambdaContext()
    )

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["token_type"] == "bearer"
