"""The worker without a broker, the email backends, and what the worker's
package imports."""

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from uuid import UUID

import psycopg
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from functions.worker import inline, mailer, runner
from shared import settings as settings_module
from shared.settings import Settings
from tests.worker.conftest import (
    event_cancelled,
    order_confirmed,
    order_refunded,
    text_of,
    wait_until,
)

Emails = Callable[[], list[EmailMessage]]
InsertOutbox = Callable[..., UUID]


def outbox_state(database_url: str, message_id: UUID) -> tuple[object, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT published_at IS NOT NULL, attempts, dead_lettered_at IS NOT NULL "
            "FROM outbox WHERE id = %s",
            (message_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_inline_worker_emails_outbox_rows_without_a_broker(
    worker_settings: Settings, insert_outbox: InsertOutbox, emails: Emails
) -> None:
    insert_outbox("order.refunded", order_refunded("grace@example.com"))
    insert_outbox("event.cancelled", event_cancelled(buyers=3))

    stop = threading.Event()
    worker = threading.Thread(target=runner.run, args=(stop,))
    worker.start()
    try:
        wait_until(lambda: len(emails()) == 4, "the refund and three cancellations")
    finally:
        stop.set()
        worker.join(10)

    subjects = sorted(str(sent["Subject"]) for sent in emails())
    assert subjects == [
        "Night of Fugues is cancelled",
        "Night of Fugues is cancelled",
        "Night of Fugues is cancelled",
        "Your order for Night of Fugues is refunded",
    ]
    assert inline.handle_due() == 0


def test_inline_failures_wait_then_set_the_row_aside_after_the_limit(
    worker_settings: Settings,
    insert_outbox: InsertOutbox,
    emails: Emails,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def smtp_down(message: EmailMessage) -> None:
        raise ConnectionError("mail service down")

    monkeypatch.setattr(mailer, "send", smtp_down)
    slow_retries = worker_settings.model_copy(update={"worker_retry_delays": [600]})
    settings_module.configure(slow_retries)
    failing = insert_outbox("order.confirmed", order_confirmed())

    assert inline.handle_due() == 1
    assert outbox_state(database_url, failing) == (False, 1, False)
    assert inline.handle_due() == 0  # not due again until its delay has passed

    for attempts in (2, 3):
        make_due(database_url, failing)
        assert inline.handle_due() == 1
        assert outbox_state(database_url, failing)[1] == attempts
    assert outbox_state(database_url, failing) == (False, 3, True)
    make_due(database_url, failing)
    assert inline.handle_due() == 0
    assert emails() == []


def make_due(database_url: str, message_id: UUID) -> None:
    """Let a row's retry delay pass without waiting for it."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE outbox SET next_attempt_at = now() WHERE id = %s", (message_id,)
        )


def test_an_unknown_inline_message_is_set_aside_at_once(
    worker_settings: Settings, insert_outbox: InsertOutbox, database_url: str
) -> None:
    unknown = insert_outbox("order.teleported", {})

    inline.handle_due()

    assert outbox_state(database_url, unknown) == (False, 1, True)


@pytest.fixture
def ses(worker_settings: Settings) -> Iterator[None]:
    with mock_aws():
        settings_module.configure(
            worker_settings.model_copy(update={"email_backend": "ses"})
        )
        mailer.ses_client.cache_clear()
        client = mailer.ses_client(worker_settings.aws_region)
        client.create_email_identity(EmailIdentity="example.com")
        yield
    mailer.ses_client.cache_clear()


def test_ses_backend_sends_text_and_html_through_amazon_ses(
    ses: None, worker_settings: Settings, insert_outbox: InsertOutbox
) -> None:
    payload = order_confirmed("linus@example.com", tickets=2)
    insert_outbox("order.confirmed", payload)

    inline.handle_due()

    backend = ses_backends[DEFAULT_ACCOUNT_ID][worker_settings.aws_region]
    [sent] = backend.sent_messages
    assert set(sent.destinations) == {"linus@example.com"}
    assert "text/plain" in sent.raw_data and "text/html" in sent.raw_data
    for ticket in payload["tickets"]:
        assert ticket["code"] in sent.raw_data


def test_file_backend_email_has_a_text_and_an_html_part(
    worker_settings: Settings, insert_outbox: InsertOutbox, emails: Emails
) -> None:
    insert_outbox(
        "user.registered",
        {
            "user_id": "8f0c6f7e-6a9b-4d52-9a39-5a7c0f0e1a11",
            "email": "new@example.com",
            "full_name": "Nova <b>Bold</b>",
        },
    )

    inline.handle_due()

    [sent] = emails()
    assert sent["Subject"] == "Welcome to EventScale"
    assert "Hello Nova <b>Bold</b>," in text_of(sent)
    html = sent.get_body(preferencelist=("html",))
    assert html is not None
    assert "Nova &lt;b&gt;Bold&lt;/b&gt;" in str(html.get_content())


FORBIDDEN_IN_WORKER = ["fastapi", "starlette", "shared.app", "shared.auth"]


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_worker_package_loads_without_fastapi() -> None:
    loaded = imported_after("import functions.worker.handler, functions.worker.runner")
    assert loaded.isdisjoint(FORBIDDEN_IN_WORKER)


def test_http_functions_do_not_load_pika_at_import() -> None:
    loaded = imported_after(
        "import functions.auth.handler, shared.outbox, shared.publisher"
    )
    assert "pika" not in loaded
