"""Orders from every channel: sourcing, fulfilment (ship, click & collect, ship-from-store), returns."""
