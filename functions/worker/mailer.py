"""Email backends: Amazon SES (v2), ``.eml`` files in MAIL_DIR, or the log."""

import time
import uuid
from email.message import EmailMessage
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.logs import get_logger
from shared.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

log = get_logger(__name__)


def send(email: EmailMessage) -> None:
    """Send one email or raise: a failure is retried through the queue."""
    backend = get_settings().email_backend
    if backend == "ses":
        _send_with_ses(email)
    elif backend == "file":
        _write_file(email)
    else:
        _log_email(email)


def _send_with_ses(email: EmailMessage) -> None:
    response = ses_client(get_settings().aws_region).send_email(
        FromEmailAddress=str(email["From"]),
        Destination={"ToAddresses": [str(email["To"])]},
        Content={"Raw": {"Data": email.as_bytes()}},
    )
    log.info(
        "email.sent",
        extra={"subject": str(email["Subject"]), "ses_id": response["MessageId"]},
    )


@lru_cache(maxsize=1)
def ses_client(region: str) -> "SESV2Client":
    import boto3  # only the SES backend needs it, and it is slow to import

    return boto3.client("sesv2", region_name=region)


def _write_file(email: EmailMessage) -> None:
    folder = get_settings().mail_path
    folder.mkdir(parents=True, exist_ok=True)
    # Never named after the message: a duplicate must show, not overwrite.
    path = folder / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(email.as_bytes())
    log.info(
        "email.written", extra={"subject": str(email["Subject"]), "path": str(path)}
    )


def _log_email(email: EmailMessage) -> None:
    # The console backend is for reading emails locally: it shows the text.
    body = email.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    log.info(
        "email.console",
        extra={"to": str(email["To"]), "subject": str(email["Subject"]), "text": text},
    )
