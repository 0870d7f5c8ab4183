"""What a complaint is, in every shape it takes: its field limits, the accepted complaint as it is
stored and queued, what the office sends (filters, a change, a walk-in complaint), a planned
change, and what the office's functions return.

The returned shapes are `TypedDict`s: the rows stay the dicts Postgres hands back (no per-row
validation on the hot list path), while the types say exactly what a page, a template or a JSON
route gets, and pydantic can use them as response models.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple, NotRequired

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict

from mla_core.complaints.lifecycle import Status
from mla_core.core.fields import PhoneNumber
from mla_core.core.languages import LanguageCode

Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["phone", "walk_in", "web", "manual", "meeting"]


class Limit(NamedTuple):
    """How many characters a text field takes, at least and at most."""

    low: int
    high: int

    def constraints(self) -> StringConstraints:
        return StringConstraints(min_length=self.low, max_length=self.high)


# What the caller says: the agent's tool (with a sentence the caller can hear) and the staff's
# form check the same limits.
LIMITS: dict[str, Limit] = {
    "description": Limit(5, 1000),
    "location": Limit(2, 300),
    "caller_name": Limit(1, 120),
    "landmark": Limit(1, 200),
}

Description = Annotated[str, LIMITS["description"].constraints()]
Location = Annotated[str, LIMITS["location"].constraints()]
CallerName = Annotated[str, LIMITS["caller_name"].constraints()]
Landmark = Annotated[str, LIMITS["landmark"].constraints()]


class Complaint(BaseModel):
    """An accepted complaint, as stored and as queued (versioned: it travels through SQS)."""

    schema_version: Literal[1] = 1
    tenant_id: str
    reference: int
    idempotency_key: str
    channel: Channel = "phone"
    category: str
    description: str
    location: str
    landmark: str | None = None
    caller_name: str | None = None
    caller_number: str | None = None  # the number the call came from; None: a hidden caller
    # A hidden caller's number for the SMS, as they said it: never whose complaint this is (status
    # questions match `caller_number` only), only where the confirmation and updates go.
    callback_number: str | None = None
    language: str
    room_name: str | None = None
    sla_due_at: datetime
    created_at: datetime
    sms_confirmation: bool = True  # False: the call's SMS were used up; not stored, kept while queued
    logged_by: str | None = None  # the office user who typed it in (their id, on its `created` event); None: the agent


class ManualComplaint(BaseModel):
    """A walk-in or phone complaint typed in by staff: the same rules as the agent's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    description: Description
    location: Location
    caller_name: CallerName | None = None
    caller_number: PhoneNumber | None = None  # as typed (`98400 12345`, `044-2345 6789`), stored as E.164
    landmark: Landmark | None = None
    language: LanguageCode = "en"
    channel: Literal["walk_in", "manual"] = "walk_in"


Sort = Literal["newest", "oldest", "sla_due"]
# The longest search the list takes: the API's `q`, the page's search box and its error alike.
QUERY_LIMIT = 200


class ComplaintFilters(BaseModel):
    """Which of the office's complaints to list or export, in which order, and from where on."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] | None = None
    category: Annotated[str, StringConstraints(max_length=60)] | None = None
    assigned_to: uuid.UUID | None = None
    language: Annotated[str, StringConstraints(max_length=8)] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sla: Literal["overdue", "due_soon"] | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=QUERY_LIMIT)] | None = None
    sort: Sort = "newest"
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=300)] | None = None


def reference_text(value: object) -> object:
    """A complaint named as people write it: `#1002`, ` 1002 ` or an id; the list shows `#1002`."""
    return value.strip().removeprefix("#").strip() if isinstance(value, str) else value


# Another complaint of the office, by its reference (`#1002` or `1002`) or its id.
ComplaintReference = Annotated[str, BeforeValidator(reference_text), StringConstraints(max_length=40)]


class ComplaintPatch(BaseModel):
    """A change to a complaint, made against the version the client saw."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1, description="the version you read (or send If-Match)")
    status: Status | None = None
    assigned_to: uuid.UUID | None = None
    unassign: bool = False
    priority: Priority | None = None
    category: Annotated[str, StringConstraints(max_length=60)] | None = None
    sla_due_at: datetime | None = None
    duplicate_of: ComplaintReference | None = None
    transferred_to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None


class UndoDuplicate(BaseModel):
    """An office admin's undoing of a wrong duplicate: why, on the timeline, against the version read."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1, description="the version you read (or send If-Match)")
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@dataclass(frozen=True)
class Event:
    """A line on a complaint's timeline; the store writes it with the office user who acted."""

    complaint_id: uuid.UUID
    event_type: str
    from_status: Status | None = None
    to_status: Status | None = None
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComplaintChange:
    """What a PATCH does, planned before anything is written (`changes.plan_change`)."""

    columns: dict[str, Any]  # column → new value; the version and updated_at follow on their own
    events: list[Event]  # in the order they happen
    original: uuid.UUID | None = None  # a duplicate's original: it gains a supporter
    released: uuid.UUID | None = None  # an undone duplicate's original: it loses that supporter
    notify: Status | None = None  # the new status, whose SMS (if the office sends one) follows the commit


class ComplaintRow(TypedDict):
    """A complaint as the office's list, export and detail read it."""

    id: uuid.UUID
    reference: int
    status: Status
    priority: Priority
    category: str
    description: str
    location: str | None
    landmark: str | None
    caller_name: str | None
    caller_number: str | None
    callback_number: str | None  # a hidden caller's number for SMS, unverified (staff see it)
    language: str | None
    channel: Channel
    assigned_to: uuid.UUID | None
    sla_due_at: datetime | None
    supporter_count: int
    duplicate_of: uuid.UUID | None
    transferred_to: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    overdue: bool | None  # past its SLA date and still open; None without an SLA date


class TimelineEvent(TypedDict):
    event_type: str  # created | status_changed | assigned | priority_changed | category_changed | sla_changed…
    from_status: Status | None
    to_status: Status | None
    actor_type: Literal["agent", "user", "system", "constituent"]
    actor_id: str | None  # the user's id, or the agent's room
    actor_name: NotRequired[str | None]  # a user's name as the office knows it (None: no longer known)
    note: str | None
    data: dict[str, Any]
    created_at: datetime


class CallSummary(TypedDict):
    """The call a complaint was taken on."""

    room_name: str
    caller_number: str | None
    dialed_number: str | None
    language: str | None
    status: Literal["in_progress", "completed", "missed", "failed"]
    outcome: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    transcript: list[dict[str, Any]]
    recording_url: str | None


class Notification(TypedDict):
    """A message sent (or being retried) to the constituent about the complaint."""

    channel: Literal["sms", "email"]
    recipient: str
    purpose: str
    language: str | None
    body: str
    status: Literal["queued", "sent", "failed"]
    provider_message_id: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class ComplaintLink(TypedDict):
    """Another complaint as a duplicate's page or its original's names it: enough to know it."""

    id: uuid.UUID
    reference: int
    category: str
    status: Status
    description: str
    supporter_count: int


class ComplaintDetail(ComplaintRow):
    """A complaint with its timeline (oldest first), its call and its notifications; a duplicate's
    original, and an original's duplicates (newest last)."""

    timeline: list[TimelineEvent]
    call: CallSummary | None
    notifications: list[Notification]
    original: NotRequired[ComplaintLink | None]
    duplicates: NotRequired[list[ComplaintLink]]


class Choices(TypedDict):
    """What the list's filters and the assignment offer."""

    people: dict[str, str]  # the office's active people: user id → name (or email)
    categories: dict[str, dict[str, str]]  # the main agent's categories: code → name by language


class ComplaintPage(TypedDict):
    items: list[ComplaintRow]
    next_cursor: str | None  # None on the last page


class ListPage(ComplaintPage, Choices):
    """The dashboard's list page: a page of complaints and the filters' choices."""


class DayCount(TypedDict):
    day: str  # ISO date, India time
    count: int


class Stats(TypedDict):
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_day: list[DayCount]  # the last 30 days with complaints
    overdue: int
    median_hours_to_resolve_90d: float | None
