"""Shapes of tracking sources as the API and the CLI take and give them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class SourceKind(StrEnum):
    WEB = "web"
    APP = "app"
    POS = "pos"
    CRM = "crm"
    MARKETPLACE = "marketplace"
    SERVER = "server"


# A server sends on behalf of some other touchpoint, so it has no channel of its own to default to.
DEFAULT_CHANNELS: dict[SourceKind, str] = {
    SourceKind.WEB: "web",
    SourceKind.APP: "app",
    SourceKind.POS: "pos",
    SourceKind.CRM: "crm",
    SourceKind.MARKETPLACE: "marketplace",
}


class SourceCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    kind: SourceKind
    store_code: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    default_channel: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[a-z0-9_:-]+$")

    @model_validator(mode="after")
    def _complete(self) -> SourceCreate:
        if self.store_code and self.kind is not SourceKind.POS:
            raise ValueError("only a pos source belongs to a store (store_code)")
        if self.name is None:
            if not self.store_code:
                raise ValueError(
                    "a source needs a name (or, for a pos source, a store_code to name it after)"
                )
            self.name = self.store_code
        if self.default_channel is None:
            if self.kind not in DEFAULT_CHANNELS:
                raise ValueError("a server source needs a default_channel (the channel its events belong to)")
            self.default_channel = DEFAULT_CHANNELS[self.kind]
        return self


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: SourceKind
    key: str
    store_code: str | None
    default_channel: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class CreatedSource(BaseModel):
    """A new source and its write key, which is shown this once and never stored."""

    source: SourceRead
    write_key: str
