from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import Settings, load_settings

LONG_SECRET = "s" * 40


class TestProduction:
    def test_requires_a_database_url(self) -> None:
        with pytest.raises(ValidationError, match="DATABASE_URL"):
            Settings(environment="production", jwt_secret=LONG_SECRET)

    def test_requires_a_jwt_secret(self) -> None:
        with pytest.raises(ValidationError, match="JWT_SECRET"):
            Settings(environment="production", database_url="postgresql://db/x")

    def test_a_lambda_container_counts_as_production(self) -> None:
        with pytest.raises(ValidationError, match="DATABASE_URL"):
            Settings(aws_lambda_function_name="auth", jwt_secret=LONG_SECRET)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(jwt_secret="too-short")


def test_cors_origins_accept_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")

    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")

    with pytest.raises(ValidationError, match="port"):
        Settings()


@pytest.mark.parametrize(
    ("url", "prepare"),
    [
        ("postgresql://u:p@ep-cool-1234-pooler.eu-central-1.aws.neon.tech/db", False),
        ("postgresql://u:p@ep-cool-1234.eu-central-1.aws.neon.tech/db", True),
        ("postgresql://postgres@127.0.0.1:5432/postgres", True),
    ],
)
def test_prepared_statements_are_off_behind_a_pooler(url: str, prepare: bool) -> None:
    assert Settings(database_url=url).prepare_statements is prepare


def test_explicit_prepare_setting_wins() -> None:
    url = "postgresql://u@ep-x-pooler.neon.tech/db"

    assert Settings(database_url=url, database_prepare=True).prepare_statements


def test_local_run_generates_a_jwt_secret_once_and_keeps_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    first = load_settings().jwt_key
    second = load_settings().jwt_key

    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_mail_dir_defaults_inside_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).mail_path == tmp_path / "mail"
