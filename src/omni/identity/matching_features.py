"""Candidate records cleaned into comparable features, and what the matcher blocks on and compares."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink.internals.comparison_creator import ComparisonCreator

from omni.kit.errors import ValidationFailed

ID_COLUMN = "record_id"
DATASET_COLUMN = "source_dataset"
# What a caller may pass, besides record_id and source_dataset; `suburb` is read as `city`.
FEATURE_COLUMNS = (
    "given_name",
    "surname",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "city",
    "postcode",
    "state",
)
COLUMN_ALIASES = {"suburb": "city"}
# Splink's own names for the record key and the dataset label.
UNIQUE_ID = "unique_id"
SOURCE_DATASET = "source_dataset"
# A till keys a phone with or without country code and trunk 0; the last nine digits are the subscriber
# number in Taiwan and Australia alike, so they are what two records of one phone share.
PHONE_DIGITS_KEPT = 9
PHONE_MIN_DIGITS = 7
# Blocking keys: the feature value, unless so many records share it that it says nothing about a person.
BLOCKING_KEYS = {
    "dob_key": "date_of_birth",
    "phone_key": "phone",
    "email_key": "email",
    "address_key": "address",
}
DATE_SHAPES = (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"))

_DROPPED = re.compile(r"['’`.]")
_SEPARATORS = re.compile(r"[^\w@+]+")
_NON_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True, slots=True)
class Rule:
    """A SQL condition on a pair of records (l, r), used when every column it names is filled somewhere."""

    sql: str
    columns: tuple[str, ...]


def _same(*expressions: str) -> Rule:
    # "substr(given_name,1,1)" becomes "substr(l.given_name,1,1) = substr(r.given_name,1,1)".
    columns: list[str] = []
    parts: list[str] = []
    for expression in expressions:
        column = next(c for c in (*BLOCKING_KEYS, *FEATURE_COLUMNS) if c in expression)
        columns.append(column)
        parts.append(
            f"{expression.replace(column, 'l.' + column)} = {expression.replace(column, 'r.' + column)}"
        )
    return Rule(" and ".join(parts), tuple(columns))


# Candidate pairs: any two fields agreeing exactly, the selective identifiers alone, swapped names, and
# initials or birth year where typos leave little else equal. The *_key columns are the value with the
# over-shared ones (a junk phone, a default birthday) removed, so one junk value cannot make a huge block.
DEFAULT_BLOCKING: tuple[Rule, ...] = (
    _same("dob_key"),
    _same("phone_key"),
    _same("email_key"),
    _same("address_key"),
    _same("given_name", "surname"),
    Rule("l.given_name = r.surname and l.surname = r.given_name", ("given_name", "surname")),
    _same("given_name", "city"),
    _same("given_name", "postcode"),
    _same("surname", "city"),
    _same("surname", "postcode"),
    _same("city", "postcode", "substr(given_name,1,1)"),
    _same("city", "postcode", "substr(surname,1,1)"),
    Rule(
        "l.postcode = r.postcode and substr(l.given_name,1,1) = substr(r.surname,1,1)",
        ("postcode", "given_name"),
    ),
    Rule(
        "l.postcode = r.postcode and substr(l.surname,1,1) = substr(r.given_name,1,1)",
        ("postcode", "surname"),
    ),
    _same("substr(date_of_birth,1,4)", "substr(surname,1,2)"),
    _same("substr(date_of_birth,1,4)", "substr(given_name,1,2)"),
)
# Expectation maximisation cannot learn m for a column it blocks on, so two sessions on unrelated
# columns are run: together they estimate every comparison. They name the feature itself (not its *_key)
# so that Splink knows which comparison each session must leave alone; em_max_pairs bounds their size.
DEFAULT_EM_BLOCKING: tuple[Rule, ...] = (
    _same("given_name", "surname"),
    _same("phone"),
    _same("email"),
    _same("date_of_birth"),
    _same("postcode"),
)
# Pairs these rules find are taken as almost surely the same person, to estimate how rare a match is.
DEFAULT_DETERMINISTIC: tuple[Rule, ...] = (
    _same("given_name", "surname", "date_of_birth"),
    _same("given_name", "surname", "email"),
    _same("given_name", "surname", "phone"),
)


class MatchingInputError(ValidationFailed):
    """A candidate table the matcher cannot read: the message names the column and the rule."""

    code = "invalid_match_input"


def clean_text(value: object) -> str | None:
    """Return value NFKC-normalised, lower-cased, without punctuation, single-spaced; None if empty."""
    if _missing(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    # Apostrophes and dots vanish (o'brien = obrien, st. = st); other punctuation separates words.
    text = _SEPARATORS.sub(" ", _DROPPED.sub("", text)).strip()
    return text or None


def clean_email(value: object) -> str | None:
    """Return the address trimmed and lower-cased, or None when it has no local part and domain."""
    if _missing(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    local, at, domain = text.rpartition("@")
    return text if at and local and domain else None


def clean_phone(value: object) -> str | None:
    """Return the last nine digits of a phone number, or None when too few digits were written."""
    if _missing(value):
        return None
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", str(value)))
    return digits[-PHONE_DIGITS_KEPT:] if len(digits) >= PHONE_MIN_DIGITS else None


def clean_date(value: object) -> str | None:
    """Return a birthday as YYYYMMDD text; a mistyped but date-shaped value is kept so typos still count."""
    if _missing(value):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.strftime("%Y%m%d")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for shape in DATE_SHAPES:
        if found := shape.match(text):
            year, month, day = found.groups()
            return f"{year}{int(month):02d}{int(day):02d}"
    raise ValueError("is not a date written as YYYYMMDD or YYYY-MM-DD")


CLEANERS: Mapping[str, Callable[[object], str | None]] = {
    "given_name": clean_text,
    "surname": clean_text,
    "date_of_birth": clean_date,
    "email": clean_email,
    "phone": clean_phone,
    "address": clean_text,
    "city": clean_text,
    "postcode": clean_text,
    "state": clean_text,
}


def as_frame(records: Any) -> pd.DataFrame:
    """Return records (a DataFrame, a pyarrow Table, a DuckDB relation or a list of dicts) as a DataFrame."""
    if isinstance(records, pd.DataFrame):
        return records
    if hasattr(records, "to_pandas"):  # pyarrow Table or RecordBatch
        frame = records.to_pandas()
    elif hasattr(records, "df") and callable(records.df):  # DuckDB relation
        frame = records.df()
    elif isinstance(records, Iterable) and not isinstance(records, str | bytes | Mapping):
        frame = pd.DataFrame.from_records(list(records))
    else:
        raise MatchingInputError(
            f"records must be a table of candidate records, not {type(records).__name__}",
            details=[{"field": "records", "rule": "table"}],
        )
    if not isinstance(frame, pd.DataFrame):
        raise MatchingInputError("records did not convert to a table", details=[{"field": "records"}])
    return frame


def prepare_records(records: Any, *, require_dataset: bool = False) -> pd.DataFrame:
    """Validate candidate records and return Splink's input: unique_id, source_dataset and cleaned features.

    Unknown columns are ignored (profiles carry more than the matcher reads); a missing feature column is
    all-null. Bad input raises MatchingInputError naming the column, the record and the rule.
    """
    frame = as_frame(records).rename(columns=COLUMN_ALIASES)
    if frame.columns.duplicated().any():
        raise MatchingInputError(
            "records have both suburb and city (or a column twice); pass one",
            details=[{"field": "city", "rule": "one column"}],
        )
    if ID_COLUMN not in frame.columns:
        raise MatchingInputError(
            "records have no record_id column", details=[{"field": ID_COLUMN, "rule": "required"}]
        )
    if not any(column in frame.columns for column in FEATURE_COLUMNS):
        raise MatchingInputError(
            f"records have none of the columns the matcher compares: {', '.join(FEATURE_COLUMNS)}",
            details=[{"field": "records", "rule": "at least one feature column"}],
        )
    prepared = pd.DataFrame(index=range(len(frame)))
    prepared[UNIQUE_ID] = _record_ids(frame[ID_COLUMN])
    if DATASET_COLUMN in frame.columns:
        prepared[SOURCE_DATASET] = _dataset_labels(frame[DATASET_COLUMN])
    elif require_dataset:
        raise MatchingInputError(
            "linking needs a source_dataset column saying which side each record is on",
            details=[{"field": DATASET_COLUMN, "rule": "required for link_only"}],
        )
    else:
        prepared[SOURCE_DATASET] = "records"
    duplicated = prepared.duplicated([SOURCE_DATASET, UNIQUE_ID])
    if duplicated.any():
        first = prepared.loc[duplicated, UNIQUE_ID].iloc[0]
        raise MatchingInputError(
            f"record_id {first!r} appears more than once in one source_dataset",
            details=[{"field": ID_COLUMN, "rule": "unique", "record_id": first}],
        )
    for column in FEATURE_COLUMNS:
        if column in frame.columns:
            prepared[column] = _clean_column(
                frame[column].to_numpy(dtype=object), prepared[UNIQUE_ID], column
            )
        else:
            prepared[column] = None
    return prepared


def add_blocking_keys(prepared: pd.DataFrame, *, max_block_size: int) -> pd.DataFrame:
    """Return prepared with a *_key column per selective feature, null where a value is over-shared."""
    keyed = prepared.copy()
    for key, column in BLOCKING_KEYS.items():
        counts = keyed[column].map(keyed[column].value_counts())
        keyed[key] = keyed[column].where(counts <= max_block_size)
    return keyed


def _clean_column(values: Any, record_ids: pd.Series, column: str) -> list[str | None]:
    cleaner = CLEANERS[column]
    cleaned: list[str | None] = []
    for position, value in enumerate(values):
        try:
            cleaned.append(cleaner(value))
        except ValueError as exc:
            record_id = record_ids.iloc[position]
            raise MatchingInputError(
                f"{column} of record {record_id!r} {exc}",
                details=[{"field": column, "rule": str(exc), "record_id": record_id}],
            ) from None
    return cleaned


def _record_ids(values: pd.Series) -> list[str]:
    ids: list[str] = []
    for position, value in enumerate(values.to_numpy(dtype=object)):
        text = None if _missing(value) else str(value).strip()
        if not text:
            raise MatchingInputError(
                f"record_id is missing on row {position}",
                details=[{"field": ID_COLUMN, "rule": "required", "row": position}],
            )
        ids.append(text)
    return ids


def _dataset_labels(values: pd.Series) -> list[str]:
    labels: list[str] = []
    for position, value in enumerate(values.to_numpy(dtype=object)):
        text = None if _missing(value) else str(value).strip()
        if not text:
            raise MatchingInputError(
                f"source_dataset is missing on row {position}",
                details=[{"field": DATASET_COLUMN, "rule": "required", "row": position}],
            )
        labels.append(text)
    return labels


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def comparisons_for(columns: Sequence[str]) -> list[ComparisonCreator]:
    """Return the comparisons of these columns: exact, typo and similar levels, common values discounted."""
    available = set(columns)
    built: list[ComparisonCreator] = []
    if "given_name" in available:
        built.append(cl.NameComparison("given_name").configure(term_frequency_adjustments=True))
    if "surname" in available:
        built.append(cl.NameComparison("surname").configure(term_frequency_adjustments=True))
    if "date_of_birth" in available:
        # Digit typos and swapped adjacent digits; a birthday a year off is as often a different person.
        built.append(_typo_comparison("date_of_birth", term_frequencies=False, wider=2))
    if "email" in available:
        built.append(cl.EmailComparison("email"))
    if "phone" in available:
        built.append(cl.LevenshteinAtThresholds("phone", [1, 2]).configure(term_frequency_adjustments=True))
    if "address" in available:
        built.append(
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88]).configure(term_frequency_adjustments=True)
        )
    if "city" in available:
        built.append(cl.JaroWinklerAtThresholds("city", [0.9]).configure(term_frequency_adjustments=True))
    if "postcode" in available:
        built.append(_typo_comparison("postcode", term_frequencies=True))
    # state is not compared: it adds nothing a matching postcode has not already said.
    return built


def _typo_comparison(column: str, *, term_frequencies: bool, wider: int | None = None) -> ComparisonCreator:
    """Exact, one typo (a swapped pair of digits counts as one), optionally `wider` edits, anything else.

    DuckDB's damerau_levenshtein is ~7x slower than levenshtein; a Damerau-Levenshtein distance of 1 implies
    a Levenshtein distance of at most 2, so the cheap test guards the dear one and most pairs skip it.
    """
    exact = cll.ExactMatchLevel(column)
    if term_frequencies:
        exact.configure(tf_adjustment_column=column)
    levels = [
        cll.NullLevel(column),
        exact,
        cll.And(cll.LevenshteinLevel(column, 2), cll.DamerauLevenshteinLevel(column, 1)).configure(
            label_for_charts=f"one typo in {column}"
        ),
    ]
    if wider is not None:
        levels.append(cll.LevenshteinLevel(column, wider))
    return cl.CustomComparison(
        comparison_levels=[*levels, cll.ElseLevel()],
        output_column_name=column,
        comparison_description=f"Exact {column} vs. one typo vs. up to {wider or 1} edits vs. anything else",
    )
