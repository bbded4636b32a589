"""Test fixtures: a database of this run's own on the machine's PostgreSQL,
emptied after every test so tests pass in any order."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import db, migrations
from shared import settings as settings_module
from shared.local import build_local_app
from shared.passwords import hash_password
from shared.settings import Settings
from shared.tokens import issue_access_token

TEST_JWT_SECRET = "test-secret-" + "x" * 40


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=10,
        help="generated cases per operation and mode in the fuzz test",
    )


@pytest.fixture(scope="session")
def fuzz_examples(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--fuzz-examples"))


@pytest.fixture(scope="session")
def say(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Write a line to the test report, even when output is captured."""
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")

    def write(line: str) -> None:
        if reporter is None or capture is None:
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    return write


class TestEnvironment(BaseSettings):
    """Where the machine's services are; override with TEST_* variables."""

    model_config = SettingsConfigDict(env_prefix="TEST_")

    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture(scope="session")
def test_environment() -> TestEnvironment:
    return TestEnvironment()


def database_url_for(server_url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


def create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url_for(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@pytest.fixture
def empty_database(test_environment: TestEnvironment) -> Iterator[str]:
    """A brand-new database without any migration, dropped afterwards."""
    name = f"eventscale_empty_{uuid.uuid4().hex[:12]}"
    url = create_database(test_environment.database_url, name)
    yield url
    drop_database(test_environment.database_url, name)


@pytest.fixture(scope="session")
def database_url(test_environment: TestEnvironment) -> Iterator[str]:
    """This run's database, migrated once, dropped at the end."""
    name = f"eventscale_test_{uuid.uuid4().hex[:12]}"
    url = create_database(test_environment.database_url, name)
    migrations.migrate(url)
    yield url
    drop_database(test_environment.database_url, name)


@pytest.fixture(scope="session")
def data_tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations'"
        ).fetchall()
    return [row[0] for row in rows]


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "jwt_secret": TEST_JWT_SECRET,
        "amqp_url": None,
        "data_dir": tmp_path / "data",
        "database_pool_min": 0,
        "database_pool_max": 20,
        "database_pool_timeout": 5,
        "database_connect_timeout": 3,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
def base_settings(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    configured = make_settings(database_url, tmp_path_factory.mktemp("eventscale"))
    settings_module.configure(configured)
    yield configured
    settings_module.configure(None)


@pytest.fixture
def settings(base_settings: Settings) -> Iterator[Settings]:
    """The test settings; a test may ``configure`` others, restored after."""
    settings_module.configure(base_settings)
    yield base_settings
    db.forget_pools()
    settings_module.configure(base_settings)


@pytest.fixture(autouse=True)
def clean_database(
    request: pytest.FixtureRequest, database_url: str, data_tables: list[str]
) -> Iterator[None]:
    yield
    tables = sql.SQL(", ").join(sql.Identifier(table) for table in data_tables)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables))


def open_client(app: FastAPI) -> Iterator[TestClient]:
    """A client whose event loop lives as long as it, closing its pool at the end."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
        assert client.portal is not None
        client.portal.call(db.close_pools)


@pytest.fixture(scope="session")
def local_app(base_settings: Settings) -> FastAPI:
    return build_local_app()


@pytest.fixture
def client(settings: Settings, local_app: FastAPI) -> Iterator[TestClient]:
    """Every function's routes in one app, as ``make run`` serves them."""
    yield from open_client(local_app)


TEST_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # a fixture's product, not a test class

    id: UUID
    email: str
    password: str
    role: str
    headers: dict[str, str]


@pytest.fixture(scope="session")
def test_password_hash() -> str:
    return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(
    settings: Settings, database_url: str, test_password_hash: str
) -> Callable[..., TestUser]:
    """Insert a user straight into the database and give it a bearer token."""

    def make(
        role: str = "customer",
        *,
        email: str | None = None,
        full_name: str = "Test Person",
        is_active: bool = True,
    ) -> TestUser:
        email = email or f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "INSERT INTO users (email, full_name, role, is_active, password_hash) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (email, full_name, role, is_active, test_password_hash),
            ).fetchone()
        assert row is not None
        token = issue_access_token(row[0], role).token
        headers = {"Authorization": f"Bearer {token}"}
        return TestUser(row[0], email, TEST_PASSWORD, role, headers)

    return make


@pytest.fixture
def admin(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("admin")


@pytest.fixture
def organizer(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("organizer")


@pytest.fixture
def customer(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("customer")
