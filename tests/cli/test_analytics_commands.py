"""`omni analytics export` and `omni analytics funnel`, run as a user runs them, against the walker."""

from __future__ import annotations

import re
from pathlib import Path

from omni.analytics import funnels
from omni.analytics.schemas import AnalyticsFilters
from omni.db.engine import Database
from omni.migrations import runner
from tests.analytics.test_funnel_sql import shape, shoppers, walked
from tests.cli.test_commands import omni


def test_a_funnel_over_the_export_prints_the_walkers_figures(tmp_path: Path) -> None:
    # given a SQLite store with 120 random shoppers
    url = f"sqlite:///{tmp_path / 'omni.db'}"
    database = Database(url)
    runner.upgrade(database.engine)
    funnel = shape("four_steps")
    with database.unit_of_work() as session:
        shoppers(session, people=120, seed=41)
        expected = funnels.count(
            funnel, list(walked(session, AnalyticsFilters(), funnel, "channel").values())
        )
    database.dispose()
    env = {"OMNI_DATABASE_URL": url}
    # when it is exported twice (the second replacing the first) and a funnel is asked of the export
    for _ in range(2):
        exported = omni("analytics", "export", str(tmp_path / "export"), env=env, tmp=tmp_path)
        assert exported.returncode == 0, exported.stderr
    assert "person_activity:" in exported.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".export")) == []
    steps = ",".join(step.event for step in funnel.steps)
    found = omni(
        "analytics", "funnel", str(tmp_path / "export"), "--steps", steps, "--window-hours", "0.5",
        "--by", "channel", env=env, tmp=tmp_path,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    # then each channel's people per step and drop-offs are the walker's
    printed: dict[str, list[tuple[int, int]]] = {}
    for line in found.stdout.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃|]", line) if cell.strip()]
        if len(cells) == 7 and cells[1].isdigit():
            printed.setdefault(cells[0], []).append(
                (int(cells[3].replace(",", "")), int(cells[5].replace(",", "")))
            )
    assert printed == {
        group: list(zip(counts.people, counts.dropped, strict=True)) for group, counts in expected.items()
    }


def test_a_funnel_without_an_export_or_with_a_bad_option_says_why(tmp_path: Path) -> None:
    env = {"OMNI_DATABASE_URL": f"sqlite:///{tmp_path / 'omni.db'}"}
    missing = omni("analytics", "funnel", str(tmp_path), "--steps", "A,B", env=env, tmp=tmp_path)
    assert missing.returncode == 1
    assert "holds no export" in missing.stderr
    (tmp_path / "person_activity.parquet").touch()
    bad = omni(
        "analytics", "funnel", str(tmp_path), "--steps", "A,B", "--by", "colour", env=env, tmp=tmp_path
    )
    assert bad.returncode == 2
    assert "channel or store" in bad.stderr
