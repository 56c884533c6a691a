"""The console provider: each message is one JSON line in a file, so the demo runs with no outside service."""

from __future__ import annotations

import json
import os
from pathlib import Path

from omni.channels.providers.base import Outgoing
from omni.kit.time import utc_now


class ConsoleProvider:
    name = "console"
    # The file is fsynced before send returns, so lookup sees every message that went out.
    resend_safe = True
    lanes = 1

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, outgoing: Outgoing) -> str:
        line = json.dumps(
            {
                "id": outgoing.idempotency_key,
                "message_id": outgoing.message_id,
                "at": utc_now().isoformat(),
                "channel": outgoing.channel,
                "to": outgoing.address,
                "content": dict(outgoing.content),
            },
            ensure_ascii=False,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line to a file opened for appending: lines of several workers never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return f"console:{outgoing.message_id}"

    def lookup(self, outgoing: Outgoing) -> str | None:
        if not self.path.exists():
            return None
        marker = json.dumps(outgoing.idempotency_key, ensure_ascii=False)
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.startswith('{"id": ' + marker + ","):
                    return f"console:{outgoing.message_id}"
        return None

    def close(self) -> None:
        return None
