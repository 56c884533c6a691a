"""Roles and the dashboard sections each may use."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    STORE_STAFF = "store_staff"


class Section(StrEnum):
    OVERVIEW = "overview"
    CUSTOMERS = "customers"
    SEGMENTS = "segments"
    JOURNEYS = "journeys"
    CATALOG = "catalog"
    ORDERS = "orders"
    LOYALTY = "loyalty"
    ANALYTICS = "analytics"
    SETTINGS = "settings"


# Store staff serve customers in one store; campaigns, analytics and settings are head-office work.
SECTIONS_BY_ROLE: dict[Role, frozenset[Section]] = {
    Role.ADMIN: frozenset(Section),
    Role.MARKETER: frozenset(Section) - {Section.SETTINGS},
    Role.STORE_STAFF: frozenset(
        {Section.OVERVIEW, Section.CUSTOMERS, Section.CATALOG, Section.ORDERS, Section.LOYALTY}
    ),
}


def may_use(role: Role, section: Section) -> bool:
    """Whether role may open section."""
    return section in SECTIONS_BY_ROLE[role]
