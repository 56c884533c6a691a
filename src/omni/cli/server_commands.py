"""`omni serve`, `omni worker` and `omni status`: run Omni and see how it is doing."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table

from omni.api.logging import configure_logging
from omni.app import create_app
from omni.background import BackgroundWork
from omni.cli.context import load_settings, open_database, state
from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database, describe
from omni.events import service as events_service
from omni.events.consumers import lags
from omni.kit.errors import OmniError
from omni.migrations import runner
from omni.settings import Settings

console = Console()


def serve_app(
    settings: Settings, database: Database, *, host: str, port: int, consumers: bool, workers: int = 1
) -> None:
    """Serve the API and dashboard until interrupted, from `workers` processes sharing the port."""
    configure_logging(level="debug" if state.debug else settings.log_level, json=settings.log_json)
    options: dict[str, Any] = {"log_config": None, "access_log": False, "proxy_headers": True}
    if workers == 1:
        uvicorn.run(create_app(settings, database, run_consumers=consumers), host=host, port=port, **options)
        return
    # Each worker process builds its own app and connections from the environment; the log's consumers and
    # the periodic jobs run once, here in the supervising process, so the workers only answer requests.
    os.environ["OMNI_LOG_LEVEL"] = "debug" if state.debug else settings.log_level
    background = BackgroundWork(database, settings) if consumers else None
    if background:
        background.start()
    try:
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, host=host, port=port, **options)
    finally:
        if background:
            background.stop()


def worker_app() -> FastAPI:
    """The app of one `omni serve --workers N` process, configured from the environment."""
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    return create_app(settings, open_database(settings, migrate=False))


class BackgroundServer:
    """The API and dashboard served from a thread, so the caller can feed it while it serves."""

    def __init__(self, settings: Settings, database: Database, *, host: str, port: int) -> None:
        configure_logging(level="debug" if state.debug else "warning", json=settings.log_json)
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(
            create_app(settings, database), host=host, port=port, log_config=None, access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="omni-server", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        """Start serving and return once the port accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServerFailed(f"could not serve at {self.url} (is the port in use?)")
            time.sleep(0.05)

    def wait(self) -> None:
        """Serve until Ctrl-C or SIGTERM."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5) and self._thread.is_alive():
                pass
        except KeyboardInterrupt:
            pass

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)


class ServerFailed(OmniError):
    code = "server_failed"


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(help="Address to listen on (OMNI_HOST).")] = None,
        port: Annotated[int | None, typer.Option(help="Port to listen on (OMNI_PORT).")] = None,
        consumers: Annotated[
            bool,
            typer.Option(help="Also process the event log in this process (off when workers run apart)."),
        ] = True,
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                max=64,
                help="HTTP processes sharing the port; ingest scales with them on PostgreSQL (one per core).",
            ),
        ] = 1,
    ) -> None:
        """Migrate the database, then serve the API and the dashboard."""
        settings = load_settings()
        database = open_database(settings, migrate=True)
        serve_app(
            settings,
            database,
            host=host or settings.host,
            port=port or settings.port,
            consumers=consumers,
            workers=workers,
        )

    @app.command()
    def worker() -> None:
        """Process the event log with every consumer until interrupted (run several for more throughput)."""
        settings = load_settings()
        configure_logging(level="debug" if state.debug else settings.log_level, json=settings.log_json)
        database = open_database(settings, migrate=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        # Everything loaded so far lives as long as the process: freezing it spares the collector from
        # rescanning it on every batch (a third of a stitching batch's time without it).
        gc.collect()
        gc.freeze()
        background = BackgroundWork(database, settings)
        background.start()
        console.print(f"processing the event log of {describe(database.url)}; Ctrl-C stops")
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            background.stop()

    @app.command()
    def status() -> None:
        """Show the database, its schema revision, the log's size and each consumer's lag."""
        settings = load_settings()
        database = open_database(settings, migrate=False)
        revision = runner.current_revision(database.engine)
        console.print(f"database  {describe(database.url)}")
        console.print(f"schema    {revision or 'not migrated'} (code ships {runner.head_revision()})")
        if revision is None:
            console.print("run `omni db upgrade` to create the schema")
            return
        with database.unit_of_work() as session:
            head = events_service.head_position(session)
            table = Table(
                "consumer", "position", "lag", "processed", "updated", title=f"event log head {head:,}"
            )
            for lag in lags(session, ALL_CONSUMERS):
                table.add_row(
                    lag.name,
                    f"{lag.position:,}",
                    f"{lag.lag:,}",
                    f"{lag.processed:,}",
                    lag.updated_at.isoformat(timespec="seconds") if lag.updated_at else "never",
                )
        console.print(table)
