"""The catalogue's places: stores, warehouses and online locations (products arrive with commerce)."""
