"""Domain-free helpers: time, errors, identifiers."""
