"""Settings kept in AWS Secrets Manager rather than in the environment.

A deployed function is given a secret's ARN (``JWT_SECRET_ARN``, say) instead
of the value. The secret may hold a plain string, a JSON object with the value
under the setting's name (``{"JWT_SECRET": "..."}``), or, for the database,
the JSON that RDS writes for a managed password (host, port, username,
password, dbname), from which the URL is built.

Only ``shared.settings`` calls this, once per container, and boto3 is
imported here alone: functions configured without ARNs never load it.
"""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

RDS_KEYS = ("host", "username", "password")


class SecretError(RuntimeError):
    """A secret that cannot be read or holds no usable value."""


def resolve(arns: Mapping[str, str], region: str) -> dict[str, str]:
    """Fetch each setting's secret: ``{"jwt_secret": arn}`` → its value."""
    import boto3  # ~100 ms to import: only containers that need it pay

    client = boto3.client("secretsmanager", region_name=region)
    return {
        setting: value_from_secret(_fetch(client, arn), setting)
        for setting, arn in arns.items()
    }


def _fetch(client: Any, arn: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_secret_value(SecretId=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        raise SecretError(f"cannot read secret {arn}: {code}") from exc
    except BotoCoreError as exc:
        raise SecretError(f"cannot read secret {arn}: {type(exc).__name__}") from exc
    if "SecretString" not in response:
        raise SecretError(f"secret {arn} holds binary data, not a string")
    return str(response["SecretString"])


def value_from_secret(text: str, setting: str) -> str:
    """The value of ``setting`` in a secret's text (see the module's doc)."""
    document = _json_object(text)
    if document is None:
        return text
    for key in (setting.upper(), setting):
        if key in document:
            return str(document[key])
    if setting == "database_url" and all(key in document for key in RDS_KEYS):
        return rds_database_url(document)
    raise SecretError(f"the JSON secret for {setting.upper()} has no such key")


def rds_database_url(secret: Mapping[str, Any]) -> str:
    """A PostgreSQL URL from an RDS-format secret, quoting what needs it."""
    user = quote(str(secret["username"]), safe="")
    password = quote(str(secret["password"]), safe="")
    database = quote(str(secret.get("dbname") or "postgres"), safe="")
    port = secret.get("port") or 5432
    return f"postgresql://{user}:{password}@{secret['host']}:{port}/{database}"


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
