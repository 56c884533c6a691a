"""Shapes of staff accounts as the API and the forms take and give them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from omni.accounts.roles import Role


class UserCreate(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    role: Role
    store_code: str | None = Field(None, max_length=64)

    @field_validator("email")
    @classmethod
    def _plausible_email(cls, value: str) -> str:
        value = value.strip().lower()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ValueError("is not an email address")
        return value

    @model_validator(mode="after")
    def _store_staff_has_store(self) -> UserCreate:
        if self.role is Role.STORE_STAFF and not self.store_code:
            raise ValueError("store staff must be bound to a store (store_code)")
        if self.role is not Role.STORE_STAFF and self.store_code:
            raise ValueError("only store staff are bound to a store")
        return self


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    store_code: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
