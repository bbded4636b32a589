"""Configuration, read once from the environment and validated at start-up.

Nothing else in the project reads ``os.environ``: every knob is a field here.
A deployed function may name a secret in AWS Secrets Manager instead of giving
a value (``JWT_SECRET_ARN`` rather than ``JWT_SECRET``); :func:`load_settings`
then fetches it, once per container.
"""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

MIN_SECRET_LENGTH = 32
JWT_SECRET_FILE = "jwt_secret"

Environment = Literal["local", "test", "production"]

# Each setting that may come from Secrets Manager, and the field naming its ARN.
SECRET_ARN_FIELDS = {
    "database_url": "database_url_secret_arn",
    "jwt_secret": "jwt_secret_arn",
    "amqp_url": "amqp_url_secret_arn",
}


class SettingsError(RuntimeError):
    """A configuration that the service must not start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    environment: Environment = "local"
    aws_lambda_function_name: str | None = None

    database_url: str | None = None
    database_url_secret_arn: str | None = None
    database_pool_min: int = Field(default=1, ge=0)
    database_pool_max: int = Field(default=10, ge=1)
    database_prepare: bool | None = None
    database_connect_timeout: float = Field(default=5, gt=0)
    database_pool_timeout: float = Field(default=5, gt=0)
    # Connections idle longer than this are checked before reuse: in Lambda
    # a frozen container's connections may have died while it slept.
    database_check_after_idle: float = Field(default=5, ge=0)

    amqp_url: str | None = None
    amqp_url_secret_arn: str | None = None
    amqp_exchange: str = "eventscale"
    amqp_queue: str = "eventscale.work"
    # Publishing after a request runs on the request's time: a dead broker
    # must cost little, and is not tried again for a while after a failure.
    amqp_publish_timeout: float = Field(default=2, gt=0)
    amqp_publish_cooldown: float = Field(default=5, ge=0)

    worker_max_attempts: int = Field(default=5, ge=1)
    # Waits before each retry, growing; the last one repeats if attempts
    # outnumber it.
    worker_retry_delays: Annotated[list[float], NoDecode] = [5, 30, 120, 600]
    worker_prefetch: int = Field(default=10, ge=1)
    worker_relay_interval: float = Field(default=30, gt=0)
    worker_poll_interval: float = Field(default=1, gt=0)
    worker_drain_margin: float = Field(default=10, ge=0)
    purge_login_attempts_hours: int = Field(default=24, gt=0)
    purge_processed_messages_days: int = Field(default=30, gt=0)

    jwt_secret: SecretStr | None = None
    jwt_secret_arn: str | None = None
    # Secrets that signed tokens before the last rotation: they still verify
    # until removed, so rotating JWT_SECRET logs nobody out.
    jwt_previous_secrets: Annotated[list[SecretStr], NoDecode] = []
    jwt_issuer: str = "eventscale"
    jwt_audience: str = "eventscale-api"
    access_token_minutes: int = Field(default=15, gt=0)
    refresh_token_days: int = Field(default=14, gt=0)

    # Failed logins allowed per email and per client address within the
    # window before logins answer 429; a successful login clears the email's.
    login_attempts_per_email: int = Field(default=5, gt=0)
    login_attempts_per_address: int = Field(default=50, gt=0)
    login_attempt_window_seconds: int = Field(default=900, gt=0)

    cors_origins: Annotated[list[str], NoDecode] = [
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    ]

    admin_email: str = "admin@example.com"
    admin_password: SecretStr | None = None

    data_dir: Path = Path(".data")
    mail_dir: Path | None = None
    email_backend: Literal["file", "ses", "console"] = "file"
    email_from: str = "EventScale <no-reply@example.com>"
    aws_region: str = "eu-west-1"

    hold_seconds: int = Field(default=600, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    api_gateway_base_path: str = "/"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment: no ``.env`` file and no secrets
        folder, which would only read the environment again at every start."""
        return init_settings, env_settings

    @field_validator(
        "cors_origins", "jwt_previous_secrets", "worker_retry_delays", mode="before"
    )
    @classmethod
    def split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("worker_retry_delays")
    @classmethod
    def delays_positive(cls, value: list[float]) -> list[float]:
        if not value or any(delay <= 0 for delay in value):
            raise ValueError("needs at least one delay, each above zero")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def lambda_is_production(self) -> "Settings":
        if self.aws_lambda_function_name and self.environment == "local":
            self.environment = "production"
        return self

    @model_validator(mode="after")
    def production_needs_real_config(self) -> "Settings":
        if self.environment != "production":
            return self
        if not (self.database_url or self.database_url_secret_arn):
            raise ValueError("DATABASE_URL is required outside local runs")
        if self.jwt_secret is None and not self.jwt_secret_arn:
            raise ValueError("JWT_SECRET is required outside local runs")
        return self

    @field_validator("jwt_secret")
    @classmethod
    def secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def is_local(self) -> bool:
        return self.environment == "local"

    @property
    def mail_path(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @property
    def prepare_statements(self) -> bool:
        """Server-side prepared statements break behind a transaction pooler."""
        if self.database_prepare is not None:
            return self.database_prepare
        host = urlsplit(self.database_url or "").hostname or ""
        return "-pooler" not in host

    @property
    def secret_arns(self) -> dict[str, str]:
        """The ARN of each setting to fetch from Secrets Manager."""
        return {
            setting: arn
            for setting, arn_field in SECRET_ARN_FIELDS.items()
            if (arn := getattr(self, arn_field))
        }

    @property
    def jwt_key(self) -> str:
        if self.jwt_secret is None:
            raise SettingsError("JWT_SECRET is not configured")
        return self.jwt_secret.get_secret_value()


def load_settings() -> Settings:
    """Read the environment and the secrets it names; in a local run, fill in
    what can be generated."""
    settings = _with_secrets(Settings())
    if settings.is_local and settings.jwt_secret is None:
        settings.jwt_secret = SecretStr(_local_jwt_secret(settings.data_dir))
    return settings


def _with_secrets(settings: Settings) -> Settings:
    """Settings with every ``*_SECRET_ARN`` replaced by the secret's value
    (an ARN wins over a value given directly), validated again."""
    arns = settings.secret_arns
    if not arns:
        return settings
    from shared import secrets as secret_store  # boto3 only when it is needed

    try:
        values: dict[str, Any] = secret_store.resolve(arns, settings.aws_region)
    except secret_store.SecretError as exc:
        raise SettingsError(str(exc)) from exc
    return Settings(**values)


def _local_jwt_secret(data_dir: Path) -> str:
    """Generate the local signing secret once and keep it across restarts."""
    path = data_dir / JWT_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return load_settings()


_override: Settings | None = None


def get_settings() -> Settings:
    return _override or _cached()


def configure(settings: Settings | None) -> None:
    """Replace the process's settings (tests, and the local runner's embedded
    database); ``None`` goes back to the environment."""
    global _override
    _override = settings
    _cached.cache_clear()
