"""A constituent's requests about their personal data, made for them by their office's MLA admin (or by a
super admin at the CLI, the `*_as_operator` twins): what the office holds about a number, an export of
all of it, and its erasure after a preview.

Every export and erasure is recorded in `platform.privacy_requests`, naming the person by a keyed digest
(`core.privacy.subject_digest`), never by the number.

An erasure is refused while any of the person's complaints is open (`OpenComplaintsError`, with their
references): the office closes them first, deliberately and with the status SMS the lifecycle sends,
so erasing never changes the office's counts by status. It runs every feature's hook and writes its
record in one transaction; the Redis keys and the stored objects the meetings' recordings bucket holds go
after the commit, and what cannot go yet (calls' recordings: no bucket of theirs yet) stays in the
record's `pending`. A meeting's recording is kept by the erasure (it holds everyone's voices): retention
deletes it, and the erasure's counts and preview say so (`mla_core.meetings.personal_data`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import TypeAdapter, ValidationError

from mla_core.adapters import Services
from mla_core.complaints import personal_data as complaints_data
from mla_core.core.errors import AppError, InvalidInputError, NotFoundError, PermissionDeniedError
from mla_core.core.fields import PhoneNumber
from mla_core.core.names import schema_name
from mla_core.core.principal import OfficeUser
from mla_core.core.privacy import subject_digest
from mla_core.db import Conn
from mla_core.db.personal_data import Erased, Subject
from mla_core.privacy import confirmation
from mla_core.privacy.discovery import personal_data
from mla_core.privacy.models import (
    ErasurePreview,
    ErasureResult,
    ExportDocument,
    OpenComplaintsError,
    PersonSummary,
)

logger = logging.getLogger(__name__)

_PERSONS_NUMBER: TypeAdapter[str] = TypeAdapter(PhoneNumber)

EXPORT_SCHEMA_VERSION = 1
ActorType = Literal["user", "super_admin_cli"]


@dataclass(frozen=True)
class _Request:
    tenant_id: str
    actor_type: ActorType
    actor_id: str


# An office's MLA admin --------------------------------------------------------------------------


def summary(services: Services, who: OfficeUser, phone: str) -> PersonSummary:
    """What the office holds about `phone`, counted, and its open complaints."""
    return _summary(services, _office(who), phone)


def export(services: Services, who: OfficeUser, phone: str) -> ExportDocument:
    """Everything the office holds about `phone`, as one JSON document (recorded as an export)."""
    return _export(services, _office(who), phone)


def preview(services: Services, who: OfficeUser, phone: str) -> ErasurePreview:
    """What erasing `phone` will do, with the confirmation token `erase` takes (valid 10 minutes)."""
    return _preview(services, _office(who), phone)


def erase(services: Services, who: OfficeUser, phone: str, confirmation_token: str) -> ErasureResult:
    """Erase `phone`'s personal data in the office, as previewed.

    Raises `OpenComplaintsError` (409, the references in its details) while a complaint of theirs is
    open, `PreviewStaleError` (409) when the preview expired or its counts changed, and
    `ConfirmationInvalidError` (400) for a token not from a preview of this number by this admin.
    """
    return _erase(services, _office(who), phone, confirmation_token)


# A super admin at the CLI (any office, a deprovisioned one's archive included) -------------------


def summary_as_operator(services: Services, tenant_id: str, phone: str, *, by: str) -> PersonSummary:
    return _summary(services, _operator(services, tenant_id, by), phone)


def export_as_operator(services: Services, tenant_id: str, phone: str, *, by: str) -> ExportDocument:
    return _export(services, _operator(services, tenant_id, by), phone)


def preview_as_operator(services: Services, tenant_id: str, phone: str, *, by: str) -> ErasurePreview:
    return _preview(services, _operator(services, tenant_id, by), phone)


def erase_as_operator(
    services: Services, tenant_id: str, phone: str, confirmation_token: str, *, by: str
) -> ErasureResult:
    """`erase` for office `tenant_id` by the super admin whose email is `by` (refused for anyone else)."""
    return _erase(services, _operator(services, tenant_id, by), phone, confirmation_token)


# The requests ------------------------------------------------------------------------------------


def _office(who: OfficeUser) -> _Request:
    who.require_role("mla_admin")
    return _Request(who.tenant_id, "user", who.user_id)


def _operator(services: Services, tenant_id: str, by: str) -> _Request:
    with services.db.transaction() as conn:
        row = conn.execute(
            "SELECT user_id FROM platform.users WHERE lower(email) = lower(%s) AND role = 'super_admin'"
            " AND NOT disabled",
            (by,),
        ).fetchone()
    if row is None:
        raise PermissionDeniedError("only a super admin may act for an office")
    return _Request(tenant_id, "super_admin_cli", str(row["user_id"]))


def e164_of(phone: str) -> str:
    """`phone` as E.164, however it was typed (`98765 43210`, `09876543210`, `044-2345 6789`): the
    one parser, `core.fields.PhoneNumber`. The error never repeats the number (it would reach the logs)."""
    try:
        return _PERSONS_NUMBER.validate_python(phone)
    except ValidationError:
        raise InvalidInputError(
            "enter an Indian phone number, e.g. 98765 43210 or 044 2345 6789",
            details=[{"field": "phone", "reason": "indian_phone"}],
        ) from None  # pydantic's error holds the number


def _subject(services: Services, conn: Conn, request: _Request, phone: str) -> Subject:
    e164 = e164_of(phone)
    row = conn.execute(
        "SELECT archived_schema FROM platform.tenants WHERE tenant_id = %s", (request.tenant_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError("no such office")
    schema = row["archived_schema"] or schema_name(request.tenant_id)
    digest = subject_digest(services.settings.privacy_key, request.tenant_id, e164)
    return Subject(tenant_id=request.tenant_id, schema=schema, e164=e164, digest=digest)


def _sections(conn: Conn, subject: Subject) -> dict[str, list[dict[str, Any]]]:
    sections: dict[str, list[dict[str, Any]]] = {}
    for hook in personal_data():
        sections.update(hook.export(conn, subject))
    return sections


def _counts(sections: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in sections.items()}


def _look(services: Services, request: _Request, phone: str) -> tuple[Subject, PersonSummary]:
    with services.db.transaction() as conn:
        subject = _subject(services, conn, request, phone)
        counts = _counts(_sections(conn, subject))
        open_references = complaints_data.open_references(conn, subject)
    return subject, PersonSummary(counts=counts, open_complaints=open_references, erasable=not open_references)


def _summary(services: Services, request: _Request, phone: str) -> PersonSummary:
    return _look(services, request, phone)[1]


def _export(services: Services, request: _Request, phone: str) -> ExportDocument:
    now = datetime.now(UTC)
    with services.db.transaction() as conn:
        subject = _subject(services, conn, request, phone)
        sections = _sections(conn, subject)
        office = conn.execute(
            "SELECT constituency, mla_name FROM platform.tenants WHERE tenant_id = %s", (request.tenant_id,)
        ).fetchone()
        _record(conn, request, subject, "export", _counts(sections), completed=True)
    logger.info("personal data exported", extra={"tenant_id": request.tenant_id, "subject": subject.digest[:8]})
    return {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "office": dict(office or {}),
        "phone": subject.e164,
        "sections": sections,
    }


def _preview(services: Services, request: _Request, phone: str) -> ErasurePreview:
    subject, found = _look(services, request, phone)
    token, expires_at = confirmation.issue(
        services.settings.privacy_key, _confirmed(request, subject, found.counts), now=datetime.now(UTC)
    )
    return ErasurePreview(
        **found.model_dump(), effects=effects(found.counts), confirmation=token, expires_at=expires_at
    )


def _confirmed(request: _Request, subject: Subject, counts: dict[str, int]) -> confirmation.Confirmed:
    return confirmation.Confirmed(request.tenant_id, subject.digest, request.actor_id, counts)


def effects(counts: dict[str, int]) -> list[str]:
    """What an erasure of these records does, one sentence each, for the admin to confirm."""
    said = {
        "complaints": "{n} complaint(s) keep their category, area, dates and status; the caller's name, numbers,"
        " landmark, description and the notes on them are erased.",
        "calls": "{n} call(s) lose the caller's number, the transcript and the recording.",
        "notes_mentioning": "{n} note(s) on other complaints keep their words with the number removed.",
        "complaints_mentioning": "{n} other complaint(s) keep their words with the number removed.",
        "caller_memories": "{n} thing(s) the agent remembers of them (name, ward, language, facts) are erased.",
        "caller_memory_history": "{n} change(s) to what was remembered are erased.",
        "memory_jobs": "{n} record(s) of what was drawn from their calls are erased.",
        "erasure_requests": "{n} request(s) they made on calls to be forgotten are erased: this erasure is what they asked for.",
        "meetings": "{n} meeting(s) they took part in keep their record; their name and number are removed from them.",
        "meeting_segments": "{n} thing(s) they said in meetings are erased from the transcripts.",
        "meeting_recordings": "{n} meeting recording(s) hold their voice with everyone else's: they are kept until"
        " retention deletes them (the office's meeting-recording days after the meeting).",
        "meeting_segments_mentioning": "{n} thing(s) others said in meetings keep their words with the number removed.",
        "meetings_mentioning": "{n} meeting(s) keep their title and agenda with the number removed.",
    }
    sentences = [
        said.get(kind, "{n} record(s) of " + kind + " are erased.").format(n=n) for kind, n in counts.items() if n
    ]
    sentences.append(
        "SMS sent about these complaints lose their recipient and text. This cannot be undone; backups keep the"
        " data until they expire."
    )
    return sentences


def _erase(services: Services, request: _Request, phone: str, token: str) -> ErasureResult:
    key = services.settings.privacy_key
    with services.db.transaction() as conn:
        subject = _subject(services, conn, request, phone)
        open_references = complaints_data.open_references(conn, subject, lock=True)
        if open_references:
            raise OpenComplaintsError(
                "close the person's open complaints first, then erase",
                details=[{"field": "reference", "reason": str(reference)} for reference in open_references],
            )
        counts = _counts(_sections(conn, subject))
        confirmation.check(key, token, _confirmed(request, subject, counts), now=datetime.now(UTC))
        erased = Erased()
        for hook in personal_data():
            erased.add(hook.erase(conn, subject))
        request_id = _record(
            conn, request, subject, "erase", erased.counts, pending=_pending(erased.objects, erased.redis_keys)
        )
    pending = _pending(forget_objects(services, erased.objects), forget_keys(services, erased.redis_keys))
    with services.db.transaction() as conn:
        settle(conn, request_id, pending)
    logger.info(
        "personal data erased",
        extra={"tenant_id": request.tenant_id, "subject": subject.digest[:8], "counts": erased.counts},
    )
    return ErasureResult(request_id=request_id, counts=erased.counts, pending=pending)


def _pending(objects: list[str], redis_keys: list[str]) -> dict[str, list[str]]:
    return {kind: items for kind, items in (("objects", objects), ("redis_keys", redis_keys)) if items}


def forget_keys(services: Services, keys: list[str]) -> list[str]:
    """DEL the Redis keys of erased or expired records; those Redis would not take now are returned (the
    retention job tries them again)."""
    try:
        services.references.forget(keys)
    except AppError as exc:
        logger.warning("personal data's keys left in Redis", extra={"keys": len(keys), "error": exc.message})
        return keys
    return []


def forget_objects(services: Services, objects: list[str]) -> list[str]:
    """Delete the stored objects of erased or expired records that the meetings' recordings bucket holds
    (`adapters.aws.Recordings`); those left are returned: another place's (calls' recordings: no bucket of
    theirs yet) and those S3 would not delete now (the retention job tries them again)."""
    store = services.recordings
    ours = [location for location in objects if store.owns(location)]
    if not ours:
        return objects
    others = [location for location in objects if not store.owns(location)]
    try:
        refused = store.delete(ours)
    except AppError as exc:
        logger.warning("recordings left in S3", extra={"objects": len(ours), "error": exc.message})
        return objects
    return others + refused


def settle(conn: Conn, request_id: uuid.UUID, pending: dict[str, list[str]]) -> None:
    """An erasure's record with what is still to go outside the database; complete once nothing is."""
    conn.execute(
        "UPDATE platform.privacy_requests SET pending = %s, completed_at = CASE WHEN %s THEN now() END WHERE id = %s",
        (Jsonb(pending), not pending, request_id),
    )


def _record(
    conn: Conn,
    request: _Request,
    subject: Subject,
    kind: Literal["export", "erase"],
    counts: dict[str, int],
    *,
    pending: dict[str, list[str]] | None = None,
    completed: bool = False,
) -> uuid.UUID:
    row = conn.execute(
        sql.SQL(
            "INSERT INTO platform.privacy_requests (tenant_id, kind, subject_digest, actor_type, actor_id, counts,"
            " pending, completed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END) RETURNING id"
        ),
        (
            request.tenant_id,
            kind,
            subject.digest,
            request.actor_type,
            request.actor_id,
            Jsonb(counts),
            Jsonb(pending or {}),
            completed,
        ),
    ).fetchone()
    assert row is not None
    request_id: uuid.UUID = row["id"]
    return request_id
