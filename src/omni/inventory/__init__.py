"""Inventory: stock movements, reservations, allocations and available-to-promise per channel."""
