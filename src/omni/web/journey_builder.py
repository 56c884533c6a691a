"""The visual journey builder: what its canvas and side panel need, handed to journey_builder.js as JSON.

The builder edits the same JSON definition the editor shows and saves through the journeys API
(POST /v1/journeys, PUT /v1/journeys/{id}, then /activate to publish), so the API's validation, with the
JSON path of every problem, stays the one judge of a journey.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from sqlalchemy.orm import Session

from omni.channels import service as channels_service
from omni.channels.schemas import Channel, Purpose
from omni.journeys.schemas import JourneyStats
from omni.segments import service as segments_service

# Where a new journey starts: an event trigger and one exit, which the marketer builds in front of.
BLANK: dict[str, Any] = {
    "trigger": {"type": "event", "event": "Checkout Started", "keys": []},
    "start": "done",
    "nodes": {"done": {"type": "exit"}},
    "reentry": {"policy": "once"},
}
# The words journey_builder.js shows, translated through the catalogue like the templates' own.
BUILDER_WORDS = (
    "Trigger",
    "Journey settings",
    "An event",
    "Entered a segment",
    "A date trait",
    "An API call",
    "Event",
    "Keys",
    "Comma-separated property names",
    "Property filters",
    "Property",
    "Value",
    "Add a filter",
    "Remove",
    "Segment",
    "Trait",
    "Days after the date",
    "Every year",
    "Re-entry",
    "Once",
    "Once per some days",
    "Every time",
    "Days",
    "Hours",
    "Minutes",
    "Entry cap",
    "Goal event",
    "Goal within days",
    "Add a step here",
    "Pick a step",
    "Delete this step",
    "Cancel",
    "Wait for",
    "For a while",
    "Operator",
    "Until a time of day",
    "Time out after",
    "Timeout",
    "Yes",
    "No",
    "Holdout",
    "Percent",
    "Add a branch",
    "Condition on",
    "A trait",
    "In a segment",
    "Did an event",
    "Within days",
    "At least",
    "Channel",
    "Best channel",
    "Channels to choose from",
    "Purpose",
    "Template",
    "Inline variants (edit in JSON)",
    "At the person's best hour",
    "Tags",
    "Traits (one name=value a line)",
    "This step has no settings.",
    "This is an older version: read only.",
    "Only a step with one next step can be deleted.",
    "The JSON is not valid; the canvas shows the last valid journey.",
    "Saved.",
    "Published.",
    "Save as a draft",
    "Publish",
    "The journey was not saved:",
    "Name",
    "Reached",
    "Now",
    "Combined condition (edit in JSON)",
)


def _events(session: Session) -> list[str]:
    vocabulary = segments_service.vocabulary(session, segments_service.context(session))
    return sorted(vocabulary.events)


def builder_data(
    session: Session,
    *,
    definition: dict[str, Any],
    journey_id: int | None,
    read_only: bool,
    numbers: JourneyStats | None = None,
) -> str:
    """The builder's JSON: the definition, the choices its forms offer, people per node."""
    data = {
        "definition": definition,
        "journey_id": journey_id,
        "read_only": read_only,
        "templates": [
            {"name": t.name, "channels": sorted(t.variants), "purpose": t.purpose}
            for t in channels_service.list_templates(session)
        ],
        "segments": [{"id": s.id, "name": s.name} for s in segments_service.list_all(session)],
        "events": _events(session),
        "channels": [*get_args(Channel), "best"],
        "purposes": list(get_args(Purpose)),
        "stats": {n.node: {"reached": n.reached, "here": n.here} for n in numbers.nodes} if numbers else {},
    }
    # Inside <script type="application/json"> no "<" may start a tag: "</script>" would end the element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
