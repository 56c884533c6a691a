"""Message templates in Liquid: one message with a variant per channel, checked when saved.

A template may name only variables that Omni fills: the person (profile), their traits and computed
traits, the order or cart the message is about, the store, the shop and the message's own links. The
check renders every variant against a sample of exactly those variables with strict undefined, and looks
at every variable path statically (so a variable in a branch the sample does not take is checked too):
an unknown variable is an error at save time, never at send time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError
from liquid.undefined import FalsyStrictUndefined

from omni.channels.errors import TemplateInvalid

# The parts each channel's variant has, and which of them must be given.
CHANNEL_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "email": (("subject", "html", "text"), ("subject",)),
    "sms": (("text",), ("text",)),
    "whatsapp": (("text",), ("text",)),
    "line": (("text",), ("text",)),
    "push": (("title", "body", "url"), ("title", "body")),
    "in_app": (("title", "body", "url"), ("title", "body")),
    "webhook": (("title", "body", "text", "url"), ()),
}
_ITEM = {"name": "Linen shirt", "sku": "SKU-1", "quantity": 1, "price": "990", "url": "", "image_url": ""}
# Every variable a message can use, with a sample value; None marks a namespace open to any name.
KNOWN: dict[str, Any] = {
    "profile": {
        "id": 1,
        "name": "Wang Xiaoming",
        "first_name": "Xiaoming",
        "last_name": "Wang",
        "email": "person@example.com",
        "phone": "+886912345678",
        "city": "Taipei",
        "birthday": "1990-05-01",
        "member_id": "M0001",
        "member_tier": "gold",
        "locale": "zh-TW",
        "timezone": "Asia/Taipei",
    },
    "traits": None,
    "computed": None,
    "order": {
        "id": "O-1",
        "number": "1001",
        "total": "1,990",
        "currency": "TWD",
        "items": [_ITEM],
        "pickup_store": "Xinyi",
        "pickup_code": "A1B2",
        "url": "",
        # Products other customers bought with this order's (orders' frequently bought together).
        "recommendations": [_ITEM],
    },
    "cart": {"id": "C-1", "total": "990", "currency": "TWD", "items": [_ITEM], "url": ""},
    "store": {
        "code": "TPE-XINYI",
        "name": "Xinyi",
        "city": "Taipei",
        "address": "",
        "phone": "",
        "hours": "",
    },
    "shop": {"name": "Omni Shop", "url": ""},
    "message": {"unsubscribe_url": "", "view_url": ""},
}

# The namespaces of what a message is about: a value of theirs missing at send time is undefined, not blank.
COMMERCE = ("order", "cart", "store", "shop")


class _Undefined(FalsyStrictUndefined):
    """Output of an undefined value fails; a test of it ({% if order.pickup_code %}) is false and
    | default: gives the default, so a template marks what it can do without."""

    force_liquid_default = True


ENVIRONMENT = Environment(undefined=_Undefined, autoescape=False)
HTML_ENVIRONMENT = Environment(undefined=_Undefined, autoescape=True)


class _Open(dict[str, Any]):
    """A sample of an open namespace: every name is defined."""

    def __missing__(self, key: str) -> str:
        return "sample"


def sample_context() -> dict[str, Any]:
    """The known variables, each with its sample value."""
    return {name: _Open() if value is None else value for name, value in KNOWN.items()}


def _environment(part: str) -> Environment:
    return HTML_ENVIRONMENT if part == "html" else ENVIRONMENT


@lru_cache(maxsize=2048)
def _parsed(part: str, source: str) -> BoundTemplate:
    # A journey sends one template to many people: parsing it once per process, not per message.
    return _environment(part).from_string(source)


def _path_problem(segments: list[Any]) -> str | None:
    root = segments[0]
    if root not in KNOWN:
        return f"unknown variable {root}; known: {', '.join(KNOWN)}"
    shape: Any = KNOWN[root]
    for segment in segments[1:]:
        if shape is None:
            return None
        if isinstance(shape, list):
            shape = shape[0] if isinstance(segment, int) else None
            if shape is None and segment not in ("size", "first", "last"):
                return f"{'.'.join(map(str, segments))}: index a list by number"
            continue
        if isinstance(shape, Mapping):
            if segment == "size":
                return None
            if segment not in shape:
                return f"unknown variable {'.'.join(map(str, segments))}; {root} has {', '.join(shape)}"
            shape = shape[segment]
            continue
        return None
    return None


def check_variant(channel: str, parts: Mapping[str, str]) -> list[dict[str, str]]:
    """Problems of one channel's variant: missing or unknown parts, syntax, unknown variables."""
    try:
        # Every send checks its message again; the same text need not be analysed twice.
        return [dict(problem) for problem in _known_problems(channel, tuple(parts.items()))]
    except TypeError:  # a part that is not text (bad input) cannot be a cache key
        return _problems(channel, parts)


@lru_cache(maxsize=1024)
def _known_problems(
    channel: str, parts: tuple[tuple[str, str], ...]
) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(problem.items()) for problem in _problems(channel, dict(parts)))


def _problems(channel: str, parts: Mapping[str, str]) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    allowed, required = CHANNEL_PARTS[channel]
    for part in required:
        if not str(parts.get(part) or "").strip():
            problems.append({"field": f"variants.{channel}.{part}", "rule": "required"})
    for part, source in parts.items():
        field = f"variants.{channel}.{part}"
        if part not in allowed:
            problems.append({"field": field, "rule": f"{channel} has only {', '.join(allowed)}"})
            continue
        try:
            template = _parsed(part, source)
            for segments in template.global_variable_segments():
                problem = _path_problem(list(segments))
                if problem:
                    problems.append({"field": field, "rule": problem})
            if not any(p["field"] == field for p in problems):
                template.render(**sample_context())
        except LiquidError as exc:
            problems.append({"field": field, "rule": str(exc.message if hasattr(exc, "message") else exc)})
    return problems


def check(variants: Mapping[str, Mapping[str, str]]) -> None:
    """Raise TemplateInvalid naming every broken part of every variant."""
    problems: list[dict[str, str]] = []
    for channel, parts in variants.items():
        if channel not in CHANNEL_PARTS:
            problems.append({"field": f"variants.{channel}", "rule": f"one of {', '.join(CHANNEL_PARTS)}"})
            continue
        problems.extend(check_variant(channel, parts))
    if not variants:
        problems.append({"field": "variants", "rule": "give at least one channel's variant"})
    if problems:
        raise TemplateInvalid("the template cannot be saved", details=problems)


def named_paths(parts: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """Every variable path the parts name (in any branch), as segments: ("order", "items")."""
    found: list[tuple[Any, ...]] = []
    for part, source in parts.items():
        for segments in _parsed(part, source).global_variable_segments():
            if tuple(segments) not in found:
                found.append(tuple(segments))
    return found


def _present(value: Any) -> Any:
    """value without its null, empty text and empty list entries, which are then undefined."""
    if isinstance(value, Mapping):
        return {k: _present(v) for k, v in value.items() if v is not None and v != "" and v != []}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def fill(context: Mapping[str, Any]) -> dict[str, Any]:
    """context completed so every known variable is defined: a fact the person lacks renders empty. The
    order, cart, store and shop are as given, their missing values undefined: never rendered blank."""

    def complete(shape: Any, given: Any) -> Any:
        if shape is None:
            return _Blank(given if isinstance(given, Mapping) else {})
        if isinstance(shape, Mapping):
            given = given if isinstance(given, Mapping) else {}
            return {key: complete(shape[key], given.get(key)) for key in shape} | {
                key: value for key, value in given.items() if key not in shape
            }
        if isinstance(shape, list):
            return list(given) if isinstance(given, list) else []
        return given

    filled = {
        name: complete(shape, context.get(name)) for name, shape in KNOWN.items() if name not in COMMERCE
    }
    return filled | {
        name: _present(context[name]) for name in COMMERCE if isinstance(context.get(name), Mapping)
    }


class _Blank(dict[str, Any]):
    """An open namespace at send time: a name the person lacks renders empty."""

    def __missing__(self, key: str) -> None:
        return None


def render(channel: str, parts: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, str]:
    """The variant rendered for one person; context holds the known variables. A profile fact the person
    lacks renders empty; a missing order, cart, store or shop value fails the rendering (TemplateInvalid)."""
    filled = fill(context)
    rendered: dict[str, str] = {}
    for part, source in parts.items():
        try:
            rendered[part] = _parsed(part, source).render(**filled)
        except LiquidError as exc:
            rule = str(exc.message if getattr(exc, "message", None) else exc)
            raise TemplateInvalid(
                f"the {channel} {part} cannot be rendered: {rule}",
                details=[{"field": f"variants.{channel}.{part}", "rule": rule}],
            ) from None
    return rendered
