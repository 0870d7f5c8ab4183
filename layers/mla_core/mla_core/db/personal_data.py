"""Where each feature keeps a constituent's personal data, and what finding, exporting, erasing and
expiring it must do there: one registry, so that a feature added later (caller memory, meetings, MCP
audit records) plugs in by registering, and `mla_core.privacy` never changes for it.

A feature registers one `PersonalData` from its own `personal_data.py` module (found by
`mla_core.privacy.discovery`). Its `columns` name every text and JSON column it answers for; the test
`tests/integration/test_personal_data_map.py` holds the database's columns to the union of them, so a new
column of personal data cannot be left out of erasure by forgetting to register it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from psycopg import sql

from mla_core.core.privacy import mentions_pattern, subject_digest
from mla_core.core.retention import RetentionPolicy
from mla_core.db import Conn, Database


@dataclass(frozen=True)
class Subject:
    """The person a request is about, in one office: their number, and the digest our records name them by."""

    tenant_id: str
    schema: str  # tenant_{id}, or archived_tenant_{id} once the office is deprovisioned
    e164: str
    digest: str


@dataclass
class Erased:
    """What an erasure or an expiry changed: rows by kind, and what must go once its transaction commits
    (recordings' objects, Redis keys), which cannot roll back with it."""

    counts: dict[str, int] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)
    redis_keys: list[str] = field(default_factory=list)

    def add(self, other: Erased) -> Erased:
        for kind, n in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + n
        self.objects += other.objects
        self.redis_keys += other.redis_keys
        return self


class PersonalData(Protocol):
    """One feature's personal data."""

    name: str  # the export's section, e.g. "complaints", "calls"
    columns: Mapping[str, Sequence[str]]  # table ("platform.x" for the control plane's) → its personal columns
    not_personal: Mapping[str, Sequence[str]]  # the feature's other text and JSON columns

    def export(self, conn: Conn, subject: Subject) -> dict[str, list[dict[str, Any]]]: ...

    def erase(self, conn: Conn, subject: Subject) -> Erased: ...

    def expire(self, conn: Conn, schema: str, policy: RetentionPolicy, now: datetime) -> Erased: ...


_registered: dict[str, PersonalData] = {}


def register(hook: PersonalData) -> PersonalData:
    """Called once by each feature's `personal_data` module; registering a name again replaces it."""
    _registered[hook.name] = hook
    return hook


def hooks() -> list[PersonalData]:
    return list(_registered.values())


# Every script's decimal digits that people in our offices write (Devanagari, Bengali, Gurmukhi, Gujarati,
# Oriya, Tamil, Telugu, Kannada, Malayalam, full-width), and the ASCII digit of each: Postgres's
# `translate` reads them as `core.fields.ascii_digits` does in Python, for `mentions_pattern`.
INDIC_DIGITS = "".join(
    chr(zero + d) for zero in (0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xFF10) for d in range(10)
)
THEIR_ASCII = "0123456789" * (len(INDIC_DIGITS) // 10)


def mentions(column: sql.Composable, e164: str) -> sql.Composed:
    """SQL that is true where `column` (any type, read as text) mentions the number as people write it."""
    return sql.SQL("translate({}::text, {}, {}) ~ {}").format(
        column, sql.Literal(INDIC_DIGITS), sql.Literal(THEIR_ASCII), sql.Literal(mentions_pattern(e164))
    )


def erased_since(
    db: Database, key: Callable[[], bytes], tenant_id: str, numbers: Iterable[str | None], since: datetime
) -> bool:
    """Whether one of `numbers` was erased from office `tenant_id` after `since`: a message made before
    an erasure (a complaint or call record waiting in the queue) is then stored anonymised. The key is
    read only when the office has erasures that recent (most have none)."""
    present = [n for n in numbers if n]
    if not present:
        return False
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT DISTINCT subject_digest FROM platform.privacy_requests"
            " WHERE tenant_id = %s AND kind = 'erase' AND created_at >= %s",
            (tenant_id, since),
        ).fetchall()
    erased = {row["subject_digest"] for row in rows}
    return bool(erased) and any(subject_digest(key(), tenant_id, n) in erased for n in present)
