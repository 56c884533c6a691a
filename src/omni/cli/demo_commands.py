"""`omni demo`: migrate, simulate the retailer, feed it through the tracking API and the importer, serve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

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

from omni.analytics import funnel_export, funnel_sql, funnels, timelines
from omni.analytics.repository import funnel_attempts
from omni.analytics.schemas import AnalyticsFilters
from omni.background import BackgroundWork
from omni.cli.context import load_settings, open_database
from omni.cli.profile_commands import match_profiles
from omni.cli.server_commands import BackgroundServer
from omni.consumers import ALL_CONSUMERS
from omni.db import statistics as db_statistics
from omni.db.engine import Database
from omni.demo.journeys import JourneysSummary
from omni.demo.loader import DEMO_PASSWORD, demo_end_date, load_demo
from omni.demo.simulate import simulate
from omni.demo.truth import GroundTruthWriter, SimulationStats, written_identifiers
from omni.events.consumers import catch_up
from omni.identity import unification

console = Console()
UTC_ZONE = ZoneInfo("UTC")
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


def _unification(
    database: Database, truth_dir: Path
) -> tuple[unification.UnificationScore, unification.UnificationScore]:
    """Scores over every identifier (cookies and devices included) and over the known kinds only."""
    with database.unit_of_work() as session:
        every = unification.measure(session, written_identifiers(truth_dir))
        known = unification.measure(session, written_identifiers(truth_dir), kinds=unification.KNOWN_KINDS)
    return every, known


def print_stats(stats: SimulationStats) -> None:
    """Print the simulator's statistics as tables."""
    for title, rows in stats.as_rows():
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("")
        table.add_column("", justify="right")
        for label, value in rows:
            table.add_row(str(label), f"{value:,}" if isinstance(value, int) else str(value))
        console.print(table)


def _print_journeys(journeys: JourneysSummary) -> None:
    """What the ready-made journeys did with the demo's live shoppers and orders."""
    console.print(
        f"journeys: {journeys.shoppers} live shoppers checked out, "
        f"{journeys.live_orders} customers ordered again"
    )
    for activity in journeys.activity:
        console.print(f"  {activity.describe()}")
    for label, text in journeys.samples:
        console.print(f"  {label}: {text}", markup=False)


DEMO_FUNNEL = funnels.Funnel(
    tuple(
        funnels.Step(e) for e in ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
    ),
    funnels.window_of(7 * 24),
)


def _print_export_funnel(database: Database, directory: Path) -> None:
    """Export the store for DuckDB and print the demo's funnel from the export beside the store's own."""
    started = time.perf_counter()
    with database.read_only_unit() as session:
        timelines.export(session, directory)
        on_store = funnels.count(
            DEMO_FUNNEL, funnel_attempts(session, AnalyticsFilters(), UTC_ZONE, DEMO_FUNNEL, None)
        )
    exported = time.perf_counter() - started
    with timelines.opened(directory) as duck:
        answered = time.perf_counter()
        rows = funnel_export.run(duck, DEMO_FUNNEL, funnel_sql.Scope(), None)
        answered = time.perf_counter() - answered
    people = funnel_sql.counts_of(DEMO_FUNNEL, rows)[""].people

    def steps(counts: list[int]) -> str:
        return " -> ".join(f"{n:,}" for n in counts)

    console.print(f"analytics export in {directory} ({exported:.1f} s; `omni analytics funnel` reads it)")
    console.print(f"  view -> add -> checkout -> order in 7 days, on DuckDB over the export: {steps(people)}")
    console.print(f"  ({answered:.2f} s); on the store: {steps(on_store[''].people if on_store else [])}")


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
        serve: Annotated[bool, typer.Option(help="Keep serving the dashboard when loaded.")] = True,
        host: Annotated[str | None, typer.Option(help="Address to listen on (OMNI_HOST).")] = None,
        port: Annotated[int | None, typer.Option(help="Port to listen on (OMNI_PORT).")] = None,
    ) -> None:
        """Run the simulated Taiwanese retailer: migrate, simulate, ingest through the API, then serve."""
        settings = load_settings()
        end = demo_end_date(settings.timezone)
        truth_dir = settings.data_dir / "demo" / f"seed{seed}-customers{customers}"
        started = time.perf_counter()
        if stats_only:
            truth = GroundTruthWriter(truth_dir)
            with _progress() as progress:
                task = progress.add_task("simulating", total=customers, rate="")
                for _ in truth.observe(simulate(customers=customers, seed=seed, end=end)):
                    progress.update(task, completed=truth.people_done)
            print_stats(truth.close())
            console.print(f"ground truth written to {truth_dir}")
            return
        database = open_database(settings, migrate=True)
        server = BackgroundServer(settings, database, host=host or settings.host, port=port or settings.port)
        server.start()
        try:
            with _progress() as progress:
                sending = progress.add_task("sending events to the tracking API", total=None, rate="")

                def on_events(count: int) -> None:
                    done = progress.tasks[sending].completed + count
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    progress.update(sending, completed=done, rate=f"{rate:,.0f} events/s")

                summary = load_demo(
                    database,
                    base_url=server.url,
                    customers=customers,
                    seed=seed,
                    truth_dir=truth_dir,
                    timezone=settings.timezone,
                    on_events=on_events,
                    end=end,
                )
                progress.update(sending, total=progress.tasks[sending].completed)
                consuming = progress.add_task("unifying profiles from the event log", total=None, rate="")

                def on_consumed(_: str, count: int) -> None:
                    progress.update(consuming, advance=count)
                    # As the worker's db.statistics job would: plans stay good while the store fills.
                    db_statistics.refresh_if_grown(database)

                catch_up(database.sessions, ALL_CONSUMERS, on_progress=on_consumed)
                progress.update(consuming, total=progress.tasks[consuming].completed)
                stitched = _unification(database, truth_dir)
                matched = match_profiles(database)
            console.print(f"probabilistic matching: {matched}")
            console.print(f"unified against the ground truth; stitched: {stitched[0].describe()}")
            console.print(f"  of which what people told the retailer: {stitched[1].describe()}")
            matched_scores = _unification(database, truth_dir)
            console.print(f"  after matching: {matched_scores[0].describe()}")
            console.print(f"  of which what people told the retailer: {matched_scores[1].describe()}")
            elapsed = time.perf_counter() - started
            console.print(
                f"{summary.sent:,} events sent through the tracking API, {summary.imported_customers:,} CRM "
                f"customers imported, ground truth in {truth_dir}, ready in {elapsed:.0f} s"
            )
            if summary.journeys is not None:
                _print_journeys(summary.journeys)
            _print_export_funnel(database, settings.data_dir / "demo" / "analytics-export")
            if not serve:
                return
            console.print(f"\n[bold]Omni is serving at {server.url}[/]")
            console.print(
                f"log in as [bold]{summary.logins[0].email}[/] with password [bold]{DEMO_PASSWORD}[/]"
            )
            console.print("(also marketer@omni.demo, and staff.<store code>@omni.demo for each store)")
            background = BackgroundWork(database, settings)
            background.start()
            try:
                server.wait()
            finally:
                background.stop()
        finally:
            server.stop()
