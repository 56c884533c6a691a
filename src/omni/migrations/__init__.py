"""Alembic migrations of every domain's tables, and the functions that apply and check them."""
