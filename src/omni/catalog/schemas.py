"""Shapes of locations as the API and importers take and give them."""

from __future__ import annotations

import re
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class LocationKind(StrEnum):
    STORE = "store"
    WAREHOUSE = "warehouse"
    ONLINE = "online"


class LocationCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: LocationKind
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    city: str = Field("", max_length=100)
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    timezone: str = "Asia/Taipei"
    opening_hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    click_and_collect: bool = False
    daily_pickup_capacity: int = Field(0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
            for opens, closes in spans:
                if not (_HHMM.match(opens) and _HHMM.match(closes)):
                    raise ValueError(f"{day}: times are HH:MM, got {opens}-{closes}")
                if opens >= closes:
                    raise ValueError(f"{day}: opens at {opens} but closes at {closes}")
        return value


class LocationRead(LocationCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
