"""Values as definitions compare them, read the same way on SQLite, PostgreSQL and DuckDB.

A comparison (op and constant) becomes an Ibis predicate; a value inside a JSON column is read as text,
number or boolean only where it is one, since engines (and Ibis on SQLite) differ in how they unwrap it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from omni.segments import definitions as d

# The same operators compare an Ibis value (building a predicate) and a plain number (deciding it).
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def matches(value: ir.Value, compare: d.Compare) -> ir.BooleanValue:
    """The predicate that value satisfies compare (an op and its constant)."""
    if compare.op == "in":
        return value.isin(list(compare.value))
    predicate: ir.BooleanValue = OPERATORS[compare.op](value, compare.value)
    return predicate


def holds(compare: d.Compare, number: float) -> bool:
    """Whether a comparison holds for a plain number (zero, for people without events)."""
    if compare.op == "exists":
        return False
    if compare.op == "in":
        return number in compare.value
    return bool(OPERATORS[compare.op](number, compare.value))


@ibis.udf.scalar.builtin(name="json_extract")  # type: ignore[untyped-decorator]
def _sqlite_text(document: dt.JSON, path: str) -> str:  # type: ignore[empty-body]
    """SQLite's json_extract: a JSON text comes back as plain SQL text."""


@ibis.udf.scalar.builtin(name="json_extract")  # type: ignore[untyped-decorator]
def _sqlite_number(document: dt.JSON, path: str) -> float:  # type: ignore[empty-body]
    """SQLite's json_extract of a JSON number."""


@ibis.udf.scalar.builtin(name="json_type")  # type: ignore[untyped-decorator]
def _sqlite_type(document: dt.JSON, path: str) -> str:  # type: ignore[empty-body]
    """SQLite's json_type at a path: text, integer, real, true, false, null, object, array."""


@dataclass(frozen=True)
class Json:
    """A value inside a JSON column, read as text, number or boolean only where it is one.

    Ibis reads JSON portably except for SQLite texts (it applies ->> twice, which fails on a text), so
    on SQLite the value is read with json_type / json_extract at a JSON path instead.
    """

    engine: str
    column: Any
    parts: tuple[str | int, ...] = ()

    def __getitem__(self, part: str | int) -> Json:
        return Json(self.engine, self.column, (*self.parts, part))

    def _native(self) -> Any:
        value = self.column
        for part in self.parts:
            value = value[part]
        return value

    def _path(self) -> str:
        return "$" + "".join(f"[{p}]" if isinstance(p, int) else f'."{p}"' for p in self.parts)

    @property
    def str(self) -> ir.StringValue:
        if self.engine != "sqlite":
            return self._native().str
        kind = _sqlite_type(self.column, self._path())
        return ibis.ifelse(kind == "text", _sqlite_text(self.column, self._path()), ibis.null("string"))

    @property
    def float(self) -> ir.FloatingValue:
        if self.engine != "sqlite":
            return self._native().float
        kind = _sqlite_type(self.column, self._path())
        number = _sqlite_number(self.column, self._path())
        return ibis.ifelse(kind.isin(["integer", "real"]), number, ibis.null("float64"))

    @property
    def bool(self) -> ir.BooleanValue:
        if self.engine != "sqlite":
            return self._native().bool
        kind = _sqlite_type(self.column, self._path())
        return ibis.ifelse(kind.isin(["true", "false"]), kind == "true", ibis.null("boolean"))

    def exists(self) -> ir.BooleanValue:
        if self.engine != "sqlite":
            return self._native().notnull()
        kind = _sqlite_type(self.column, self._path())
        return kind.notnull() & (kind != "null")


def json_compare(value: Json, compare: d.Compare) -> ir.BooleanValue:
    """A JSON value compared by the constant's type: a text with text, a number with a number."""
    if compare.op == "exists":
        return value.exists()
    constants = list(compare.value) if compare.op == "in" else [compare.value]
    parts = []
    for kind, unwrap in ((bool, "bool"), (int | float, "float"), (str, "str")):
        chosen = [c for c in constants if isinstance(c, kind) and (kind is bool or not isinstance(c, bool))]
        if chosen:
            unwrapped = getattr(value, unwrap)
            one = d.Compare("in", tuple(chosen)) if compare.op == "in" else compare
            parts.append(matches(unwrapped, one))
    return functools.reduce(lambda a, b: a | b, parts)


def json_at(value: Json, path: str) -> Json:
    for part in path.split("."):
        value = value[part]
    return value
