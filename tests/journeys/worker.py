"""A journey worker in its own process, for tests that kill it with SIGKILL.

python -m tests.journeys.worker DATABASE_URL SETTINGS_JSON STOP_AT: steps due runs; at the first STOP_AT
point (stepped: send intents written, not committed; committed: written, no provider called yet) it prints
"AT <point>" and waits to be killed.
"""

from __future__ import annotations

import json
import sys
import time

from omni.db.engine import Database
from omni.journeys import tasks
from omni.settings import Settings


def main() -> None:
    url, settings_json, stop_at = sys.argv[1], sys.argv[2], sys.argv[3]
    database = Database(url)
    settings = Settings.model_validate(json.loads(settings_json))

    def checkpoint(point: str) -> None:
        if point == stop_at:
            sys.stdout.write(f"AT {point}\n")
            sys.stdout.flush()
            time.sleep(120)

    tasks.run_due(database, settings, batch=1000, checkpoint=checkpoint)
    sys.stdout.write("DONE\n")


if __name__ == "__main__":
    main()
