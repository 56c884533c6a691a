"""Use cases of the catalog: the retailer's locations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.catalog.models import Location
from omni.catalog.schemas import LocationCreate, LocationKind


def save_location(session: Session, data: LocationCreate) -> Location:
    """Create the location with data.code, or update it to match data."""
    location = find_location(session, data.code)
    values = data.model_dump(mode="json")
    if location is None:
        location = Location(**values)
        session.add(location)
    else:
        for key, value in values.items():
            setattr(location, key, value)
    session.flush()
    return location


def find_location(session: Session, code: str) -> Location | None:
    """The location with this code, if any."""
    return session.scalar(select(Location).where(Location.code == code))


def list_locations(session: Session, *, kind: LocationKind | None = None) -> Sequence[Location]:
    """Locations, stores first, then by code."""
    query = select(Location).order_by(Location.kind.desc(), Location.code)
    if kind is not None:
        query = query.where(Location.kind == kind.value)
    return session.scalars(query).all()
