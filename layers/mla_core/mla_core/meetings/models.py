"""Meetings' shapes: a meeting as scheduled and held, its participants, its transcript's segments, the
join token of one person, and what the host may do.

A meeting goes `scheduled → live → ended`, or `scheduled → cancelled`. Its room is created when it
starts; only a live meeting is joined.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from mla_core.core.fields import Language, PhoneNumber, distinct

Kind = Literal["janata_darbar", "public_hearing", "staff"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Status = Literal["scheduled", "live", "ended", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)
Role = Literal["host", "staff", "citizen", "notetaker"]
Recording = Literal["off", "pending", "recording", "stopped", "stored", "failed"]

TITLE_LIMIT = 200
AGENDA_LIMIT = 4_000
NAME_LIMIT = 120
SEGMENT_LIMIT = 4_000  # characters of one segment: a speaker's turn, not a speech
LIST_LIMIT = 100
NOTETAKER_IDENTITY = "notetaker"
NOTETAKER_NAME = "AI note-taker"

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_LIMIT)]
Agenda = Annotated[str, StringConstraints(strip_whitespace=True, max_length=AGENDA_LIMIT)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TITLE_LIMIT)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LIMIT)]
Identity = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Languages = Annotated[list[Language], Field(min_length=1, max_length=3), AfterValidator(distinct)]


class MeetingCreate(BaseModel):
    """A meeting to schedule. `languages` are what it is held in, first the main one (the note-taker
    announces the recording in each); without them, the office's own."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    title: Title
    scheduled_at: datetime = Field(description="when it starts, with its offset (IST is +05:30)")
    duration_minutes: int = Field(default=60, ge=5, le=720)
    languages: Languages | None = None
    agenda: Agenda = ""
    location: Place = ""
    record: bool = Field(default=True, description="record the meeting's audio (the note-taker announces it)")

    @field_validator("scheduled_at")
    @classmethod
    def _with_offset(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry its offset, e.g. 2026-12-05T10:00:00+05:30")
        return value


class MeetingUpdate(BaseModel):
    """What may change before a meeting starts (a live meeting's title and agenda only)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    title: Title | None = None
    scheduled_at: datetime | None = None
    duration_minutes: int | None = Field(default=None, ge=5, le=720)
    languages: Languages | None = None
    agenda: Agenda | None = None
    location: Place | None = None
    record: bool | None = None

    @field_validator("scheduled_at")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry its offset, e.g. 2026-12-05T10:00:00+05:30")
        return value


class Meeting(BaseModel):
    id: uuid.UUID
    kind: Kind
    title: str
    agenda: str
    location: str
    languages: list[str]
    scheduled_at: datetime
    duration_minutes: int
    status: Status
    room_name: str
    recording: Recording
    recording_wanted: bool
    recording_url: str | None
    started_at: datetime | None
    ended_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class Participant(BaseModel):
    identity: str
    name: str
    role: Role
    phone: str | None  # a citizen's, as they gave it (E.164)
    hall_microphone: bool
    joined_at: datetime | None
    left_at: datetime | None
    muted: bool
    removed_at: datetime | None


class MeetingDetail(Meeting):
    participants: list[Participant]
    segments: int


class MeetingPage(BaseModel):
    items: list[Meeting]
    next_cursor: str | None


class MeetingFilters(BaseModel):
    """The list: by status and kind, a window of days (`from`/`to` on the scheduled time), soonest
    first (`order=asc`, the calendar) or newest first (the default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: Status | None = None
    kind: Kind | None = None
    starts_from: datetime | None = Field(default=None, alias="from")
    starts_before: datetime | None = Field(default=None, alias="to")
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(default=50, ge=1, le=LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=400)


class Segment(BaseModel):
    id: int
    participant_identity: str
    speaker: str  # the participant's name, with the diarized speaker on a hall microphone ("Hall mic · 2")
    speaker_label: str | None
    language: str
    text: str
    start_ms: int
    end_ms: int
    is_final: bool


class Transcript(BaseModel):
    meeting_id: uuid.UUID
    title: str
    started_at: datetime | None
    segments: list[Segment]
    next_after: int | None  # the last segment's id: ask `after=` it for what follows (the live page)


class NewSegment(BaseModel):
    """One final segment as the note-taker hands it over (`meetings.record_segment`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    participant_identity: Identity
    speaker_label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    language: Language
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SEGMENT_LIMIT)]
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    segment_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenRequest(BaseModel):
    """Whom the token is for. Without `role`, the signed-in person themselves (an MLA admin or the meeting's
    creator hosts, other staff join as staff). `role: citizen` is a token the office hands to a citizen
    (or to the hall's microphone device): it may publish its microphone only."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["citizen"] | None = None
    name: PersonName | None = None
    phone: PhoneNumber | None = None
    hall_microphone: bool = False


class Grants(BaseModel):
    room_admin: bool
    can_publish: bool
    can_publish_sources: list[str]
    can_publish_data: bool
    can_subscribe: bool


class JoinToken(BaseModel):
    token: str
    url: str  # LiveKit's URL for the browser
    room: str
    identity: str
    role: Role
    expires_at: datetime
    grants: Grants


class ParticipantAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["mute", "unmute", "remove"]


# From hearing to action (issue 20): the summary and its items -----------------------------------

ItemKind = Literal["grievance", "action", "decision"]
ItemStatus = Literal["proposed", "accepted", "dropped", "done"]
SummaryStatus = Literal["pending", "succeeded", "failed"]
ITEM_LIMIT = 2_000


class Item(BaseModel):
    """A grievance raised, an action to take or a decision made, with the segments it came from."""

    id: uuid.UUID
    meeting_id: uuid.UUID
    kind: ItemKind
    text: str
    speaker_identity: str | None
    speaker_name: str | None
    place: str | None
    category: str | None
    suggested_owner: str | None
    owner_user_id: uuid.UUID | None
    due_date: date | None
    status: ItemStatus
    segment_ids: list[int]
    complaint_id: uuid.UUID | None
    complaint_reference: int | None = None
    complaint_status: str | None = None
    phone: str | None
    position: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class Summary(BaseModel):
    """What the summary job wrote: the minutes in the meeting's first language and English, its items,
    and what it cost (`llm_calls` calls to the model, tokens in and out)."""

    meeting_id: uuid.UUID
    status: SummaryStatus
    minutes: dict[str, str]
    decisions: list[Item]
    actions: list[Item]
    grievances: list[Item]
    model: str | None
    parts: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    error: str | None
    created_at: datetime
    finished_at: datetime | None


ItemText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ITEM_LIMIT)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


class ItemUpdate(BaseModel):
    """Staff's review of an item: its words, where and what, an action's owner and due date, and whether
    it stands (`accepted`), is dropped, or (an action) is done."""

    model_config = ConfigDict(extra="forbid")

    text: ItemText | None = None
    place: Short | None = None
    category: Short | None = None
    owner_user_id: uuid.UUID | None = None
    due_date: date | None = None
    status: ItemStatus | None = None
    phone: PhoneNumber | None = None


class ItemComplaint(BaseModel):
    """A grievance made a complaint: what staff confirmed, each field defaulting to the item's."""

    model_config = ConfigDict(extra="forbid")

    category: Short | None = None
    description: ItemText | None = None
    location: Short | None = None
    caller_name: Short | None = None
    caller_number: PhoneNumber | None = None
    language: Language | None = None
