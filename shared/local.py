"""Everything on one laptop: every function's routes in one uvicorn process,
the worker in a thread beside it, and an embedded PostgreSQL when no
``DATABASE_URL`` is given.

Only the command line imports this module; deployed functions never do.
"""

import importlib
import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from shared import admin, migrations
from shared import settings as settings_module
from shared.app import create_app
from shared.logs import configure_logging, get_logger
from shared.settings import Settings

log = get_logger(__name__)

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
WORKER_STOP_SECONDS = 30


def function_names() -> list[str]:
    """Every function folder that serves HTTP routes."""
    return sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/routes.py"))


def function_router(name: str) -> APIRouter:
    module = importlib.import_module(f"functions.{name}.routes")
    router: APIRouter = module.router
    return router


def build_local_app() -> FastAPI:
    """One app with the routes of every function, as the gateway would route."""
    routers = [function_router(name) for name in function_names()]
    return create_app("(all functions)", routers)


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """The configured database, or an embedded one kept in ``DATA_DIR``."""
    if settings.database_url:
        yield settings
        return
    from pgserver.postgres_server import get_server  # local runs only

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata = settings.data_dir.resolve() / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = get_server(pgdata)
    log.info("local.embedded_database_started")
    try:
        yield settings.model_copy(update={"database_url": server.get_uri()})
    finally:
        server.cleanup()
        log.info("local.embedded_database_stopped")


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the database when its last user exits, counting users
    in a file; a run that was killed never leaves it, and the database would
    then outlive every later run. Drop the pids of processes that are gone."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    if isinstance(pids, list):
        handles.write_text(json.dumps([pid for pid in pids if _alive(pid)]))


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve() -> None:
    base = settings_module.get_settings()
    configure_logging(base.log_level)
    with database(base) as settings:
        settings_module.configure(settings)
        prepare(settings)
        stop = threading.Event()
        worker = _start_worker(stop)
        try:
            _run_uvicorn(settings)
        finally:
            stop.set()
            worker.join(WORKER_STOP_SECONDS)


def prepare(settings: Settings) -> None:
    assert settings.database_url is not None
    migrations.migrate(settings.database_url)
    _announce(settings, admin.ensure_first_admin(settings))


def _announce(settings: Settings, new_admin: admin.NewAdmin | None) -> None:
    url = f"http://{settings.host}:{settings.port}"
    lines = [f"EventScale is running at {url}  (API docs: {url}/docs)"]
    if new_admin is None:
        lines.append(f"Admin login: {settings.admin_email} (password set earlier)")
    else:
        lines.append(f"Admin login: {new_admin.email} / {new_admin.password}")
        if new_admin.password_generated:
            lines.append("This generated password is shown only once: keep it.")
    print("\n".join(lines), flush=True)  # noqa: T201 - the banner is for a person


def _start_worker(stop: threading.Event) -> threading.Thread:
    from functions.worker import runner

    thread = threading.Thread(
        target=runner.run, args=(stop,), name="worker", daemon=True
    )
    thread.start()
    return thread


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        # uvicorn re-raises the stop signal once it has shut down, which would
        # kill the process before the worker and the embedded database stop.
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {
                sig: signal.signal(sig, self.handle_exit)
                for sig in (signal.SIGINT, signal.SIGTERM)
            }
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(
        build_local_app(),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    Server(config).run()
