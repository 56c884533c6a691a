"""The in-app inbox: delivering is writing the inbox line, once per message (a unique message id)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from omni.channels.models import InboxMessage
from omni.channels.providers.base import Outgoing
from omni.kit.time import utc_now


class InboxProvider:
    name = "inbox"
    resend_safe = True
    lanes = 1

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def send(self, outgoing: Outgoing) -> str:
        with self.sessions() as session, session.begin():
            found = self._find(session, outgoing.message_id)
            if found is not None:
                return found
            line = InboxMessage(
                message_id=outgoing.message_id,
                profile_id=outgoing.profile_id,
                title=str(outgoing.content.get("title", ""))[:200],
                body=str(outgoing.content.get("body", "")),
                url=outgoing.content.get("url"),
                created_at=utc_now(),
            )
            session.add(line)
            session.flush()
            return f"inbox:{line.id}"

    @staticmethod
    def _find(session: Session, message_id: int) -> str | None:
        found = session.scalar(select(InboxMessage.id).where(InboxMessage.message_id == message_id))
        return None if found is None else f"inbox:{found}"

    def lookup(self, outgoing: Outgoing) -> str | None:
        with self.sessions() as session:
            return self._find(session, outgoing.message_id)

    def close(self) -> None:
        return None
