"""The ``eventscale`` command."""

import argparse
import getpass
import sys

from pydantic import SecretStr

from shared.logs import configure_logging
from shared.settings import SettingsError, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        parser.exit(2, f"eventscale: configuration error:\n{exc}\n")
    configure_logging(settings.log_level)
    try:
        return int(args.run(args) or 0)
    except SettingsError as exc:
        parser.exit(2, f"eventscale: {exc}\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventscale", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API and the worker locally")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply pending migrations")
    migrate.set_defaults(run=_migrate)

    worker = commands.add_parser("worker", help="run the queue consumer")
    worker.set_defaults(run=_worker)

    create_admin = commands.add_parser("create-admin", help="create an admin")
    create_admin.add_argument("email")
    create_admin.set_defaults(run=_create_admin)
    return parser


def _serve(args: argparse.Namespace) -> None:
    from shared import local

    local.serve()


def _migrate(args: argparse.Namespace) -> None:
    from shared import local, migrations

    with local.database(get_settings()) as settings:
        assert settings.database_url is not None
        applied = migrations.migrate(settings.database_url)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing"
    print(f"applied: {names}")  # noqa: T201


def _worker(args: argparse.Namespace) -> None:
    from functions.worker import runner

    runner.main()


def _create_admin(args: argparse.Namespace) -> None:
    from shared import admin, local
    from shared import settings as settings_module

    settings = get_settings()
    password = _admin_password(settings.admin_password)
    with local.database(settings) as resolved:
        settings_module.configure(resolved)
        admin.create_admin(args.email, password)
    print(f"admin ready: {args.email}")  # noqa: T201


def _admin_password(configured: SecretStr | None) -> str:
    if configured is not None:
        return configured.get_secret_value()
    if not sys.stdin.isatty():
        raise SettingsError("set ADMIN_PASSWORD or run in a terminal to be asked")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Again: "):
        raise SettingsError("the passwords differ")
    if not 8 <= len(password) <= 128:
        raise SettingsError("a password has 8 to 128 characters")
    return password


if __name__ == "__main__":
    sys.exit(main())
