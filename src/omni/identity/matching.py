"""Probabilistic identity matching: Splink (Fellegi-Sunter) on DuckDB finds people who share no identifier.

The deterministic graph joins records that share an email, phone or member id. This finds the rest: the same
name, birthday and address with a typo'd phone from a till. Parameters are estimated from the records
themselves (u by random sampling, m by expectation maximisation) and never from labels; `decide` turns scores
into `merge` above the auto-merge threshold and `review` in the grey band below it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator
from splink.internals.exceptions import SplinkException
from splink.internals.splink_dataframe import SplinkDataFrame

from omni.identity.matching_features import (
    BLOCKING_KEYS,
    DATASET_COLUMN,
    DEFAULT_BLOCKING,
    DEFAULT_DETERMINISTIC,
    DEFAULT_EM_BLOCKING,
    FEATURE_COLUMNS,
    SOURCE_DATASET,
    UNIQUE_ID,
    MatchingInputError,
    Rule,
    add_blocking_keys,
    comparisons_for,
    prepare_records,
)

__all__ = [
    "Decision",
    "MatchModel",
    "MatchSettings",
    "MatchThresholds",
    "MatchingInputError",
    "ScoredPairs",
    "decide",
    "score_pairs",
    "train_model",
]

LinkType = Literal["dedupe_only", "link_only"]
Inputs = SplinkDataFrame | list[SplinkDataFrame]
Action = Literal["merge", "review"]
LINK_TYPES: tuple[LinkType, ...] = ("dedupe_only", "link_only")
PAIR_COLUMNS = (
    "record_id_l",
    "record_id_r",
    "source_dataset_l",
    "source_dataset_r",
    "match_probability",
    "match_weight",
)


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """Match probabilities at which a pair is merged automatically, or sent to a person to review."""

    # Chosen on FEBRL1 only, before FEBRL2-4 were scored: see docs/matching.md.
    auto_merge: float = 0.95
    review: float = 0.2

    def __post_init__(self) -> None:
        for name in ("auto_merge", "review"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 < value <= 1:
                raise MatchingInputError(
                    f"{name} must be a probability above 0 and at most 1, not {value!r}",
                    details=[{"field": name, "rule": "0 < value <= 1"}],
                )
        if self.review > self.auto_merge:
            raise MatchingInputError(
                f"review ({self.review}) must not be above auto_merge ({self.auto_merge})",
                details=[{"field": "review", "rule": "review <= auto_merge"}],
            )


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """How candidate pairs are found and how the model is estimated."""

    blocking_rules: tuple[Rule, ...] = DEFAULT_BLOCKING
    em_blocking_rules: tuple[Rule, ...] = DEFAULT_EM_BLOCKING
    deterministic_rules: tuple[Rule, ...] = DEFAULT_DETERMINISTIC
    # Share of true pairs the deterministic rules are assumed to find (typos hide the rest).
    deterministic_recall: float = 0.7
    # A column filled in fewer records than this share is not compared: it would only add noise.
    min_filled_share: float = 0.01
    # A value shared by more records than this is no evidence of one person (a junk phone, a store's email).
    max_block_size: int = 50
    u_max_pairs: float = 2e6
    em_max_pairs: float | None = 1e6
    seed: int = 20261124
    min_records_to_train: int = 50
    # Pairs scored below this probability are dropped from the output: nobody acts on them.
    keep_above: float = 0.001
    # Splink logs every estimation step; a job wants only what went wrong.
    log_level: int = logging.ERROR


@dataclass(frozen=True, slots=True)
class MatchModel:
    """A trained model: Splink's settings with the estimated m and u, reusable on new batches."""

    link_type: LinkType
    splink_settings: dict[str, Any]

    def to_json(self) -> str:
        """Return the model as JSON, to be stored and loaded with from_json."""
        return json.dumps(
            {"link_type": self.link_type, "splink_settings": self.splink_settings}, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        """Read a model written by to_json."""
        data = json.loads(text)
        return cls(link_type=_link_type(data["link_type"]), splink_settings=data["splink_settings"])


@dataclass(frozen=True, slots=True)
class ScoredPairs:
    """Scored candidate pairs above settings.keep_above, best first, and how much work found them."""

    pairs: pd.DataFrame = field(repr=False)
    pairs_scored: int
    model: MatchModel = field(repr=False)
    train_seconds: float
    score_seconds: float


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one pair of records: merge them, or ask a person."""

    record_id_l: str
    record_id_r: str
    action: Action
    match_probability: float
    match_weight: float
    source_dataset_l: str | None = None
    source_dataset_r: str | None = None


def train_model(
    records: Any, *, link_type: LinkType = "dedupe_only", settings: MatchSettings | None = None
) -> MatchModel:
    """Estimate a model from the records themselves: u by random sampling, m by expectation maximisation."""
    settings = settings or MatchSettings()
    link_type = _link_type(link_type)
    prepared = _prepare(records, link_type, settings)
    with _database() as con:
        return _train(_register(con, prepared, link_type), prepared, link_type, settings)[0]


def score_pairs(
    records: Any,
    *,
    link_type: LinkType = "dedupe_only",
    settings: MatchSettings | None = None,
    model: MatchModel | None = None,
) -> ScoredPairs:
    """Score candidate pairs of records, estimating a model from them unless a trained one is given.

    dedupe_only compares every record with every other (record_id unique); link_only compares records of
    different source_dataset only (record_id unique within a dataset).
    """
    settings = settings or MatchSettings()
    link_type = _link_type(link_type)
    if model is not None and model.link_type != link_type:
        raise MatchingInputError(
            f"the model was trained for {model.link_type}, not {link_type}",
            details=[{"field": "link_type", "rule": "same as the model's"}],
        )
    prepared = _prepare(records, link_type, settings)
    with _database() as con:
        started = time.perf_counter()
        inputs = _register(con, prepared, link_type)
        if model is None:
            model, linker = _train(inputs, prepared, link_type, settings)
        else:
            linker = Linker(inputs, model.splink_settings, log_level=settings.log_level)
        trained = time.perf_counter()
        pairs, pairs_scored = _predict(con, linker, link_type, settings)
        scored = time.perf_counter()
    return ScoredPairs(pairs, pairs_scored, model, trained - started, scored - trained)


def decide(pairs: ScoredPairs | pd.DataFrame, thresholds: MatchThresholds | None = None) -> list[Decision]:
    """Return merge for pairs at or above thresholds.auto_merge and review down to thresholds.review."""
    thresholds = thresholds or MatchThresholds()
    frame = pairs.pairs if isinstance(pairs, ScoredPairs) else pairs
    missing = [
        c
        for c in ("record_id_l", "record_id_r", "match_probability", "match_weight")
        if c not in frame.columns
    ]
    if missing:
        raise MatchingInputError(
            f"pairs have no {', '.join(missing)} column",
            details=[{"field": c, "rule": "required"} for c in missing],
        )
    chosen = frame[frame["match_probability"] >= thresholds.review]
    decisions: list[Decision] = []
    for row in chosen.to_dict("records"):
        probability = float(row["match_probability"])
        decisions.append(
            Decision(
                record_id_l=str(row["record_id_l"]),
                record_id_r=str(row["record_id_r"]),
                action="merge" if probability >= thresholds.auto_merge else "review",
                match_probability=probability,
                match_weight=float(row["match_weight"]),
                source_dataset_l=_optional_text(row.get("source_dataset_l")),
                source_dataset_r=_optional_text(row.get("source_dataset_r")),
            )
        )
    return decisions


def _prepare(records: Any, link_type: LinkType, settings: MatchSettings) -> pd.DataFrame:
    prepared = prepare_records(records, require_dataset=link_type == "link_only")
    if link_type == "link_only" and prepared[SOURCE_DATASET].nunique() < 2:
        raise MatchingInputError(
            "link_only needs records from at least two source_dataset values",
            details=[{"field": DATASET_COLUMN, "rule": "at least two datasets"}],
        )
    if link_type == "dedupe_only" and prepared[UNIQUE_ID].duplicated().any():
        first = prepared.loc[prepared[UNIQUE_ID].duplicated(), UNIQUE_ID].iloc[0]
        raise MatchingInputError(
            f"record_id {first!r} appears more than once; dedupe_only needs unique record ids",
            details=[{"field": "record_id", "rule": "unique", "record_id": first}],
        )
    return add_blocking_keys(prepared, max_block_size=settings.max_block_size)


def _filled_columns(prepared: pd.DataFrame, settings: MatchSettings) -> list[str]:
    filled = prepared[list(FEATURE_COLUMNS)].notna().mean()
    return [
        c for c in FEATURE_COLUMNS if filled[c] >= settings.min_filled_share and prepared[c].nunique() > 1
    ]


def _usable(rules: Sequence[Rule], columns: Sequence[str]) -> list[str]:
    # A key column (dob_key) stands for its feature column (date_of_birth).
    return [r.sql for r in rules if all(BLOCKING_KEYS.get(c, c) in columns for c in r.columns)]


def _train(
    inputs: Inputs, prepared: pd.DataFrame, link_type: LinkType, settings: MatchSettings
) -> tuple[MatchModel, Linker]:
    if len(prepared) < settings.min_records_to_train:
        raise MatchingInputError(
            f"{len(prepared)} records are too few to estimate a model"
            f" (at least {settings.min_records_to_train}); pass a model trained on the whole population",
            details=[
                {"field": "records", "rule": f"at least {settings.min_records_to_train} records to train"}
            ],
        )
    columns = _filled_columns(prepared, settings)
    comparisons = comparisons_for(columns)
    blocking = _usable(settings.blocking_rules, columns)
    if not comparisons or not blocking:
        raise MatchingInputError(
            "no column is filled and varied enough to compare records",
            details=[
                {"field": "records", "rule": f"a feature column filled in {settings.min_filled_share:.0%}"}
            ],
        )
    creator = SettingsCreator(
        link_type=link_type,
        unique_id_column_name=UNIQUE_ID,
        source_dataset_column_name=SOURCE_DATASET,
        comparisons=list(comparisons),
        blocking_rules_to_generate_predictions=[_as_rule_dict(sql) for sql in blocking],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        # Splink draws a random id otherwise; every call has its own database, so a fixed one is safe.
        linker_uid="omni",
    )
    linker = Linker(inputs, creator, log_level=settings.log_level)
    deterministic = _usable(settings.deterministic_rules, columns)
    try:
        if deterministic:
            linker.training.estimate_probability_two_random_records_match(
                list(deterministic), recall=settings.deterministic_recall
            )
        prior = linker._settings_obj._probability_two_random_records_match
        if not 0 < prior < 1:
            # Records of live profiles: deterministic stitching has already joined every exact match, so the
            # rules can find none and estimate 0, whose log EM cannot take. One true pair per record is the
            # prior then (Splink's own default reasoning, 1 / records).
            linker._settings_obj._probability_two_random_records_match = 1 / max(len(prepared), 2)
        linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_max_pairs, seed=settings.seed)
    except (SplinkException, ValueError) as exc:
        raise MatchingInputError(
            f"the model could not be estimated from these records: {exc}",
            details=[{"field": "records", "rule": "enough varied records to estimate a model"}],
        ) from exc
    linker = _estimate_m(linker, inputs, _usable(settings.em_blocking_rules, columns), settings)
    return MatchModel(link_type=link_type, splink_settings=linker.misc.save_model_to_json()), linker


def _estimate_m(linker: Linker, inputs: Inputs, rules: Sequence[str], settings: MatchSettings) -> Linker:
    """Run expectation maximisation on the first two training rules that converge; return the trained linker.

    Splink 5 refuses an m probability that underflows to 0, which EM reaches when a level (a birthday one
    digit off, say) occurs only among non-matches of the blocked pairs. The failed session has already
    changed the linker's model, so it is rebuilt from the model as it was and the next rule is tried.
    """
    failures: list[str] = []
    sessions = 0
    for rule in rules:
        before = linker.misc.save_model_to_json()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=settings.em_max_pairs
            )
        except (SplinkException, ValueError) as exc:
            failures.append(f"{rule}: {exc}")
            linker = Linker(inputs, before, log_level=settings.log_level)
            continue
        sessions += 1
        if sessions == 2:
            return linker
    if sessions == 0:
        raise MatchingInputError(
            "expectation maximisation found no usable pairs in these records: " + "; ".join(failures),
            details=[{"field": "records", "rule": "enough varied records to estimate a model"}],
        )
    return linker


def _predict(
    con: duckdb.DuckDBPyConnection, linker: Linker, link_type: LinkType, settings: MatchSettings
) -> tuple[pd.DataFrame, int]:
    # Blocked pairs are materialised first (predict reuses them) to count the work; pairs below keep_above
    # are then dropped inside the scoring query instead of being written out.
    blocked = linker.inference.compute_blocked_pairs_for_predict().physical_name
    pairs_scored = cast(tuple[int], con.sql(f"select count(*) from {blocked}").fetchall()[0])[0]
    predictions = linker.inference.predict(
        threshold_match_probability=settings.keep_above, warning_mode="never"
    )
    table = predictions.physical_name
    datasets = (
        "source_dataset_l, source_dataset_r"
        if link_type == "link_only"
        else "null::varchar as source_dataset_l, null::varchar as source_dataset_r"
    )
    pairs = con.sql(
        f"select unique_id_l as record_id_l, unique_id_r as record_id_r, {datasets},"
        f" match_probability, match_weight from {table} where match_probability >= $keep"
        " order by match_probability desc, record_id_l, record_id_r",
        params={"keep": settings.keep_above},
    ).df()
    return pairs[list(PAIR_COLUMNS)], pairs_scored


def _register(con: duckdb.DuckDBPyConnection, prepared: pd.DataFrame, link_type: LinkType) -> Inputs:
    api = DuckDBAPI(connection=con)
    if link_type == "link_only":
        return [
            api.register(group.reset_index(drop=True), table_name=f"records_{position}")
            for position, (_, group) in enumerate(prepared.groupby(SOURCE_DATASET, sort=True))
        ]
    return api.register(prepared.drop(columns=[SOURCE_DATASET]), table_name="records")


class _database:
    """A private in-memory DuckDB for one call, closed after, so parallel jobs never share tables."""

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = duckdb.connect(":memory:")
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def _as_rule_dict(sql: str) -> dict[str, Any]:
    return {"blocking_rule": sql}


def _link_type(value: object) -> LinkType:
    for link_type in LINK_TYPES:
        if value == link_type:
            return link_type
    raise MatchingInputError(
        f"link_type must be one of {', '.join(LINK_TYPES)}, not {value!r}",
        details=[{"field": "link_type", "rule": f"one of {', '.join(LINK_TYPES)}"}],
    )


def _optional_text(value: object) -> str | None:
    return None if value is None or value != value else str(value)  # NaN is the one value unequal to itself
