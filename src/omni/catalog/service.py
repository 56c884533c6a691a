"""Use cases of the catalog: the retailer's locations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.catalog.errors import NoPrice, UnknownChannel, UnknownLocation, UnknownSku
from omni.catalog.models import ChannelLocation, Location, Price, SalesChannel, Variant
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


def get_location(session: Session, code: str) -> Location:
    """The location with this code; UnknownLocation if there is none."""
    location = find_location(session, code)
    if location is None:
        raise UnknownLocation(f"no location has code {code!r}")
    return location


def find_variant(session: Session, sku: str) -> Variant | None:
    """The variant with this SKU, if any."""
    return session.scalar(select(Variant).where(Variant.sku == sku))


def get_variant(session: Session, sku: str) -> Variant:
    """The variant with this SKU; UnknownSku if there is none."""
    variant = find_variant(session, sku)
    if variant is None:
        raise UnknownSku(f"no product variant has SKU {sku!r}")
    return variant


def get_channel(session: Session, code: str) -> SalesChannel:
    """The sales channel with this code; UnknownChannel if there is none."""
    channel = session.scalar(select(SalesChannel).where(SalesChannel.code == code))
    if channel is None:
        raise UnknownChannel(f"no sales channel has code {code!r}")
    return channel


def fulfilling_locations(session: Session, channel_code: str) -> Sequence[Location]:
    """The locations that may fulfil the channel's orders, by code."""
    channel = get_channel(session, channel_code)
    query = (
        select(Location)
        .join(ChannelLocation, ChannelLocation.location_id == Location.id)
        .where(ChannelLocation.channel_id == channel.id)
        .order_by(Location.code)
    )
    return session.scalars(query).all()


def price_for(session: Session, sku: str, channel_code: str) -> tuple[int, str]:
    """The variant's price on the channel as (minor units, currency); NoPrice if it is not sold there."""
    variant = get_variant(session, sku)
    channel = get_channel(session, channel_code)
    row = session.execute(
        select(Price.amount_minor, Price.currency).where(
            Price.variant_id == variant.id, Price.channel_id == channel.id
        )
    ).one_or_none()
    if row is None:
        raise NoPrice(f"{sku} has no price on channel {channel_code!r}")
    return row.amount_minor, row.currency
