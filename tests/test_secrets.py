"""Settings read from AWS Secrets Manager (through moto), as in a deployed
function given ``*_SECRET_ARN`` variables instead of values."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared import settings as settings_module
from shared.settings import SettingsError, get_settings, load_settings
from tests.fresh_process import run_fresh

REGION = "eu-west-1"
JWT_SECRET = "j" * 40
DATABASE_URL = "postgresql://app:pw@ep-cool-1234-pooler.eu-central-1.aws.neon.tech/db"


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("DATABASE_URL", "JWT_SECRET", "AMQP_URL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def store(client: Any, name: str, value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    arn: str = client.create_secret(Name=name, SecretString=text)["ARN"]
    return arn


def deploy_with(monkeypatch: pytest.MonkeyPatch, **arns: str) -> None:
    """The environment serverless.yml gives a production function."""
    monkeypatch.setenv("ENVIRONMENT", "production")
    for name, arn in arns.items():
        monkeypatch.setenv(name.upper(), arn)


def test_production_reads_its_secrets_from_json_keys_named_like_the_setting(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(
            secrets_manager, "db", {"DATABASE_URL": DATABASE_URL}
        ),
        jwt_secret_arn=store(secrets_manager, "jwt", {"JWT_SECRET": JWT_SECRET}),
    )

    settings = load_settings()

    assert settings.environment == "production"
    assert settings.database_url == DATABASE_URL
    assert settings.jwt_key == JWT_SECRET
    assert not settings.prepare_statements  # the pooler rule sees the real host


def test_a_plain_string_secret_is_the_value_itself(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    amqp = "amqps://user:pw@b-1234.mq.eu-west-1.amazonaws.com:5671/%2F"
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(secrets_manager, "db", DATABASE_URL),
        jwt_secret_arn=store(secrets_manager, "jwt", JWT_SECRET),
        amqp_url_secret_arn=store(secrets_manager, "mq", amqp),
    )

    settings = load_settings()

    assert (settings.database_url, settings.jwt_key) == (DATABASE_URL, JWT_SECRET)
    assert settings.amqp_url == amqp


def test_an_rds_format_secret_becomes_a_database_url(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rds = {
        "engine": "postgres",
        "host": "db.example.internal",
        "port": 5433,
        "username": "app",
        "password": "p@ss/word:1",
        "dbname": "eventscale",
    }
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(secrets_manager, "rds", rds),
        jwt_secret_arn=store(secrets_manager, "jwt", JWT_SECRET),
    )

    url = load_settings().database_url

    assert (
        url == "postgresql://app:p%40ss%2Fword%3A1@db.example.internal:5433/eventscale"
    )


def test_a_json_secret_without_the_key_stops_the_start_naming_the_setting(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(secrets_manager, "db", DATABASE_URL),
        jwt_secret_arn=store(secrets_manager, "jwt", {"other": JWT_SECRET}),
    )

    with pytest.raises(SettingsError, match="JWT_SECRET") as raised:
        load_settings()

    assert JWT_SECRET not in str(raised.value)


def test_a_missing_secret_stops_the_start_with_the_aws_error_code(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:gone-AbCdEf"
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(secrets_manager, "db", DATABASE_URL),
        jwt_secret_arn=missing,
    )

    with pytest.raises(SettingsError, match="ResourceNotFoundException"):
        load_settings()


def test_a_secret_too_short_for_signing_is_refused_like_a_direct_one(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(secrets_manager, "db", DATABASE_URL),
        jwt_secret_arn=store(secrets_manager, "jwt", "short"),
    )

    with pytest.raises(ValueError, match="at least 32"):
        load_settings()


def test_secrets_are_read_once_per_container(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    jwt_arn = store(secrets_manager, "jwt", JWT_SECRET)
    deploy_with(
        monkeypatch,
        database_url_secret_arn=store(secrets_manager, "db", DATABASE_URL),
        jwt_secret_arn=jwt_arn,
    )
    monkeypatch.setattr(settings_module, "_override", None)
    settings_module.configure(None)
    try:
        first = get_settings()
        secrets_manager.put_secret_value(SecretId=jwt_arn, SecretString="n" * 40)

        assert get_settings() is first
        assert get_settings().jwt_key == JWT_SECRET
    finally:
        settings_module.configure(None)  # forget the production settings


def test_functions_configured_without_arns_never_import_boto3() -> None:
    code = (
        "import sys, shared.settings, shared.app, shared.auth;"
        "shared.settings.load_settings();"
        "print('boto3' in sys.modules)"
    )
    env = {"ENVIRONMENT": "test", "JWT_SECRET": JWT_SECRET, "DATABASE_URL": "x"}

    assert run_fresh(code, env) == "False"
