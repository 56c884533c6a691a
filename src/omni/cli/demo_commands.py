"""`omni demo`: migrate, simulate the retailer, ingest it through the event log, and serve."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from omni.cli.context import load_settings, open_database
from omni.cli.server_commands import serve_app
from omni.demo.loader import DEMO_PASSWORD, load_demo
from omni.demo.simulate import simulate
from omni.demo.truth import GroundTruthWriter, SimulationStats

console = Console()
MAX_CUSTOMERS = 1_000_000


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


def print_stats(stats: SimulationStats) -> None:
    """Print the simulator's statistics as tables."""
    for title, rows in stats.as_rows():
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("")
        table.add_column("", justify="right")
        for label, value in rows:
            table.add_row(str(label), f"{value:,}" if isinstance(value, int) else str(value))
        console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        customers: Annotated[
            int, typer.Option(min=1, max=MAX_CUSTOMERS, help="Simulated customers (up to 1,000,000).")
        ] = 5000,
        seed: Annotated[
            int, typer.Option(help="Seed of the simulation; the same seed gives the same retailer.")
        ] = 7,
        stats_only: Annotated[
            bool, typer.Option("--stats-only", help="Simulate and print statistics; touch no database.")
        ] = False,
        serve: Annotated[bool, typer.Option(help="Serve the dashboard when loaded.")] = True,
        host: Annotated[str | None, typer.Option(help="Address to listen on (OMNI_HOST).")] = None,
        port: Annotated[int | None, typer.Option(help="Port to listen on (OMNI_PORT).")] = None,
    ) -> None:
        """Run the simulated Taiwanese retailer: migrate, simulate, ingest, then serve the dashboard."""
        settings = load_settings()
        truth_dir = settings.data_dir / "demo" / f"seed{seed}-customers{customers}"
        started = time.perf_counter()
        if stats_only:
            truth = GroundTruthWriter(truth_dir)
            with _progress() as progress:
                task = progress.add_task("simulating", total=customers, rate="")
                for _ in truth.observe(simulate(customers=customers, seed=seed)):
                    progress.update(task, completed=truth.people_done)
            print_stats(truth.close())
            console.print(f"ground truth written to {truth_dir}")
            return
        database = open_database(settings, migrate=True)
        with _progress() as progress:
            simulated = progress.add_task("simulating and ingesting events", total=None, rate="")
            counted = {"events": 0}

            def on_events(count: int) -> None:
                counted["events"] += count
                rate = counted["events"] / max(time.perf_counter() - started, 1e-9)
                progress.update(simulated, advance=count, rate=f"{rate:,.0f} events/s")

            consuming = progress.add_task("processing the event log", total=None, rate="")

            def on_consumed(_: str, count: int) -> None:
                progress.update(consuming, advance=count)

            summary = load_demo(
                database,
                customers=customers,
                seed=seed,
                truth_dir=truth_dir,
                on_events=on_events,
                on_consumed=on_consumed,
            )
            progress.update(simulated, total=counted["events"])
            progress.update(consuming, total=progress.tasks[consuming].completed)
        console.print(
            f"{summary.appended:,} new events in the log ({summary.duplicates:,} already there), "
            f"ground truth in {truth_dir}, ready in {time.perf_counter() - started:.0f} s"
        )
        if not serve:
            return
        bind_host, bind_port = host or settings.host, port or settings.port
        console.print(f"\n[bold]Omni is serving at http://{bind_host}:{bind_port}[/]")
        console.print(f"log in as [bold]{summary.logins[0].email}[/] with password [bold]{DEMO_PASSWORD}[/]")
        console.print("(also marketer@omni.demo, and staff.<store code>@omni.demo for each store)")
        serve_app(settings, database, host=bind_host, port=bind_port, consumers=True)
