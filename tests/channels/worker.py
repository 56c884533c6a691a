"""A delivery worker in its own process, for tests that kill it with SIGKILL.

python -m tests.channels.worker DATABASE_URL SETTINGS_JSON [STOP_AT] [batch=N] [go]: delivers due messages,
N claimed at a time (5 unless given); with STOP_AT (claimed or called) it prints "AT <point> <message id>" at
the first such point and waits to be killed. With go, it waits after READY for a line on stdin before
delivering, so that a test can start it while another worker still runs.
"""

from __future__ import annotations

import json
import sys
import time

from omni.channels import tasks
from omni.db.engine import Database
from omni.settings import Settings


def main() -> None:
    url, settings_json = sys.argv[1], sys.argv[2]
    options = [arg for arg in sys.argv[3:] if arg.startswith("batch=") or arg == "go"]
    stop_at = next((arg for arg in sys.argv[3:] if arg not in options), None)
    batch = next((int(arg.removeprefix("batch=")) for arg in options if arg != "go"), 5)
    database = Database(url)
    settings = Settings.model_validate(json.loads(settings_json))

    def checkpoint(point: str, message_id: int) -> None:
        if point == stop_at:
            sys.stdout.write(f"AT {point} {message_id}\n")
            sys.stdout.flush()
            time.sleep(120)

    sys.stdout.write("READY\n")
    sys.stdout.flush()
    if "go" in options:
        sys.stdin.readline()
    tasks.deliver_due(
        database, settings, limit=100_000, batch=batch, checkpoint=checkpoint if stop_at else None
    )
    sys.stdout.write("DONE\n")


if __name__ == "__main__":
    main()
