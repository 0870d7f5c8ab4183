"""What `mla_core.privacy.requests` answers, and the errors it refuses with (mapped once, by the API)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mla_core.core.errors import AppError, ConflictError


class PersonSummary(BaseModel):
    """What an office holds about a number, counted, and whether it can be erased now."""

    counts: dict[str, int] = Field(description="records by kind: complaints, calls, notes_mentioning, …")
    open_complaints: list[int] = Field(description="references of the person's complaints still open")
    erasable: bool = Field(description="no complaint of theirs is open")


class ErasurePreview(PersonSummary):
    """What an erasure will do, and the token that confirms it (valid until `expires_at`)."""

    effects: list[str] = Field(description="what will happen, one sentence each")
    confirmation: str
    expires_at: datetime


class ErasureResult(BaseModel):
    request_id: uuid.UUID
    counts: dict[str, int] = Field(description="rows changed by kind")
    pending: dict[str, list[str]] = Field(description="what is left to delete outside the database")


ExportDocument = dict[str, Any]  # schema_version, generated_at, office, phone, sections


class OpenComplaintsError(ConflictError):
    """The person has complaints still open: the office closes them first (with its status SMS), then erases."""

    code = "open_complaints"


class PreviewStaleError(ConflictError):
    """The confirmation's preview expired, or what it counted has changed since: preview again."""

    code = "preview_stale"


class ConfirmationInvalidError(AppError):
    status_code = 400
    code = "confirmation_invalid"
