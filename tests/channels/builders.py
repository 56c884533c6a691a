"""People, settings and message contents for channel tests, made through the products' own services."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.channels.schemas import MessageContent
from omni.events.models import LoggedEvent
from omni.settings import Settings
from tests.identity.builders import profile
from tests.profiles.builders import at, identify, ingest

_ids = itertools.count(1)
SECRET = "test-secret-" + "x" * 32


def member(session: Session, user_id: str = "c1", **traits: Any) -> int:
    """A person known by user_id with traits (email, phone, consent traits ...), logged and indexed."""
    stated = {"email": f"{user_id}@example.com", "phone": "0912-345-678", "first_name": "Amy", **traits}
    ingest(session, identify(f"crm-{next(_ids)}", user_id=user_id, traits=stated, when=at(30)), source="crm")
    return profile(session, "user_id", user_id)


def reindex(session: Session, *, after: int) -> None:
    """Stitch and index events services logged themselves after a position, as the workers would."""
    ingest(session, stitch_from=after)


def settings_for(tmp_path: Path, **fields: Any) -> Settings:
    return Settings(
        data_dir=tmp_path, secret_key=SECRET, log_json=False, public_url="http://omni.test", **fields
    )


def content(**variants: dict[str, str]) -> MessageContent:
    return MessageContent(variants=variants)


EMAIL = {
    "subject": "Hi {{ profile.first_name }}",
    "html": '<html><body><p>Hi {{ profile.first_name }}</p><a href="https://shop.test/sale?a=1&amp;b=2">Sale</a></body></html>',
    "text": "Hi {{ profile.first_name }}: https://shop.test/sale",
}
SMS = {"text": "{{ profile.first_name }}, your order {{ order.number }} is ready"}


def events(session: Session, name: str) -> list[LoggedEvent]:
    return list(
        session.scalars(select(LoggedEvent).where(LoggedEvent.event == name).order_by(LoggedEvent.position))
    )
