"""A delivery worker in its own process, for tests that kill it with SIGKILL.

python -m tests.channels.worker DATABASE_URL SETTINGS_JSON [STOP_AT]: delivers due messages; with STOP_AT
(claimed or called) it prints "AT <point> <message id>" at the first such point and waits to be killed.
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
    stop_at = sys.argv[3] if len(sys.argv) > 3 else None
    database = Database(url)
    settings = Settings.model_validate(json.loads(settings_json))

    def checkpoint(point: str, message_id: int) -> None:
        if point == stop_at:
            sys.stdout.write(f"AT {point} {message_id}\n")
            sys.stdout.flush()
            time.sleep(120)

    sys.stdout.write("READY\n")
    sys.stdout.flush()
    tasks.deliver_due(database, settings, limit=100_000, batch=5, checkpoint=checkpoint if stop_at else None)
    sys.stdout.write("DONE\n")


if __name__ == "__main__":
    main()
