"""Errors of staff accounts."""

from __future__ import annotations

from omni.kit.errors import ConflictError, ValidationFailed


class AccountError(ValidationFailed):
    code = "account_invalid"


class EmailTaken(ConflictError):
    code = "email_taken"
