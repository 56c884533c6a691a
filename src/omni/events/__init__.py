"""The event log: every touchpoint's events in one ordered, durable, deduplicated stream."""
