"""The meetings' pages (`/app/meetings`): the office's meetings listed (upcoming, past) and on a calendar
(a week or a month, in IST), the schedule and edit form (a date and a time in IST), a meeting's live
page (the host's controls, the participants, the live transcript, joining in the browser when LiveKit
is real) and its transcript.

Every call is one of `mla_core.meetings.meetings`' functions, scoped to the signed-in user's office:
another office's meeting is not found. This module only reads the pages' input into the domain's
models and puts together what a page shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.datastructures import FormData

from mla_core.adapters import Services
from mla_core.agents import browser_calls
from mla_core.agents.routing import load_agent_config
from mla_core.core.errors import AppError, ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from mla_core.core.principal import OfficeUser
from mla_core.meetings import meetings
from mla_core.meetings.models import (
    AGENDA_LIMIT,
    STATUSES,
    TITLE_LIMIT,
    JoinToken,
    Kind,
    Meeting,
    MeetingCreate,
    MeetingDetail,
    MeetingFilters,
    MeetingUpdate,
    Participant,
    Status,
    TokenRequest,
    Transcript,
)
from mla_core.web.forms import field_errors, parse_form
from mla_core.web.i18n import LANGUAGES
from mla_core.web.rendering import IST

When = Literal["upcoming", "past", "all"]
WHENS: tuple[When, ...] = ("upcoming", "past", "all")
View = Literal["week", "month"]
PAGE_SIZE = 50
CALENDAR_PAGES = 5  # a window's meetings are read 100 at a time; a month with more than 500 shows the first 500
DURATION_MIN, DURATION_MAX = 5, 720

_Text = Annotated[str, StringConstraints(strip_whitespace=True)]


# The list ------------------------------------------------------------------------------------


class ListQuery(BaseModel):
    """The list's query string: which meetings (`when`: from today on, before today, or all), a status
    and a kind, and the page (`cursor`)."""

    model_config = ConfigDict(extra="ignore")

    when: When = "upcoming"
    status: Status | None = None
    kind: Kind | None = None
    cursor: str | None = Field(default=None, max_length=400)


class MeetingList(BaseModel):
    query: ListQuery
    items: list[Meeting]
    next_cursor: str | None
    errors: dict[str, str]


def _today_ist(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(IST).date()


def _midnight(day: date) -> datetime:
    """The start of `day` in India."""
    return datetime.combine(day, time(), tzinfo=IST)


def meeting_list(services: Services, tenant_id: str, params: Mapping[str, str]) -> MeetingList:
    """The list for the query string `params` (blank ones left out): upcoming ones soonest first, past
    and all ones newest first. A filter that does not parse lists nothing and says which, next to it."""
    given = {k: v for k, v in params.items() if v.strip()}
    try:
        query = ListQuery.model_validate(given)
    except ValidationError as exc:
        errors = {field.split(".")[0]: sentence for field, sentence in field_errors(exc).items()}
        kept = {k: v for k, v in given.items() if k not in errors}
        try:
            shown = ListQuery.model_validate(kept)
        except ValidationError:
            shown = ListQuery()
        return MeetingList(query=shown, items=[], next_cursor=None, errors=errors)
    today = _midnight(_today_ist())
    windows: dict[When, dict[str, object]] = {
        "upcoming": {"from": today, "order": "asc"},
        "past": {"to": today, "order": "desc"},
        "all": {"order": "desc"},
    }
    filters = MeetingFilters.model_validate(
        {"status": query.status, "kind": query.kind, "cursor": query.cursor, "limit": PAGE_SIZE, **windows[query.when]}
    )
    try:
        page = meetings.list_meetings(services, tenant_id, filters)
    except InvalidInputError as exc:  # a cursor that does not decode
        return MeetingList(query=query, items=[], next_cursor=None, errors=field_errors(exc))
    return MeetingList(query=query, items=page.items, next_cursor=page.next_cursor, errors={})


# The calendar --------------------------------------------------------------------------------


class Day(BaseModel):
    day: date
    meetings: list[Meeting]
    in_range: bool  # a month view's days of the weeks around it are shown, greyed
    today: bool


class Calendar(BaseModel):
    """A week (Monday to Sunday) or a month (its weeks, whole) of meetings, each on its day in IST,
    soonest first."""

    view: View
    first: date  # the week's Monday, or the month's first day
    weeks: list[list[Day]]
    previous: date
    next: date
    more: bool  # more meetings than the calendar reads (`CALENDAR_PAGES`)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_after(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def calendar(services: Services, tenant_id: str, view: View, around: date | None, kind: Kind | None = None) -> Calendar:
    """The week or the month around `around` (today in IST by default)."""
    today = _today_ist()
    around = around or today
    if view == "week":
        first = start = _monday(around)
        end = first + timedelta(days=7)
        previous, following = first - timedelta(days=7), end
    else:
        first = around.replace(day=1)
        start, end = _monday(first), _monday(_month_after(first) - timedelta(days=1)) + timedelta(days=7)
        previous, following = (first - timedelta(days=1)).replace(day=1), _month_after(first)
    by_day: dict[date, list[Meeting]] = {}
    cursor, more = None, False
    for _ in range(CALENDAR_PAGES):
        filters = MeetingFilters.model_validate(
            {
                "from": _midnight(start),
                "to": _midnight(end),
                "order": "asc",
                "limit": 100,
                "cursor": cursor,
                "kind": kind,
            }
        )
        page = meetings.list_meetings(services, tenant_id, filters)
        for meeting in page.items:
            by_day.setdefault(meeting.scheduled_at.astimezone(IST).date(), []).append(meeting)
        cursor = page.next_cursor
        if cursor is None:
            break
    else:
        more = cursor is not None
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    in_range = (lambda d: True) if view == "week" else (lambda d: d.month == first.month)
    cells = [Day(day=d, meetings=by_day.get(d, []), in_range=in_range(d), today=d == today) for d in days]
    return Calendar(
        view=view,
        first=first,
        weeks=[cells[i : i + 7] for i in range(0, len(cells), 7)],
        previous=previous,
        next=following,
        more=more,
    )


# The schedule / edit form --------------------------------------------------------------------


class LiveMeetingForm(BaseModel):
    """The edit form of a live meeting: only its words change (`meetings.change`)."""

    model_config = ConfigDict(extra="ignore")

    version: int | None = None
    title: _Text = ""
    agenda: _Text = ""
    location: _Text = ""

    def update(self) -> MeetingUpdate:
        return MeetingUpdate.model_validate({"title": self.title, "agenda": self.agenda, "location": self.location})


class MeetingForm(LiveMeetingForm):
    """The schedule and edit form as posted: the date and the time in India (two boxes), the languages
    as the agents' form posts them (`main_language` first, then the other ticked ones in the order shown),
    and the record box (not sent when unticked)."""

    kind: str = ""
    day: date | None = Field(default=None, alias="date")  # the boxes' names; a field named `date` would hide the type
    at: time | None = Field(default=None, alias="time")
    duration_minutes: int = 60
    main_language: str | None = None
    languages: list[str] = []
    record: bool = False

    def _fields(self) -> dict[str, object]:
        ordered = ([self.main_language] if self.main_language else []) + [
            code for code in self.languages if code != self.main_language
        ]
        when = datetime.combine(self.day, self.at, tzinfo=IST) if self.day and self.at else None
        fields: dict[str, object] = {
            "kind": self.kind or None,
            "title": self.title,
            "scheduled_at": when,
            "duration_minutes": self.duration_minutes,
            "languages": ordered or None,
            "agenda": self.agenda,
            "location": self.location,
            "record": self.record,
        }
        return fields

    def create(self) -> MeetingCreate:
        self._need_date_and_time()
        return MeetingCreate.model_validate(self._fields())

    def update(self) -> MeetingUpdate:
        self._need_date_and_time()
        return MeetingUpdate.model_validate({k: v for k, v in self._fields().items() if v is not None})

    def _need_date_and_time(self) -> None:
        missing = [name for name, value in (("date", self.day), ("time", self.at)) if value is None]
        if missing:
            raise ValidationError.from_exception_data(
                "MeetingForm", [{"type": "missing", "loc": (name,), "input": None} for name in missing]
            )


# The form's fields, each with the one sentence that says what it takes (`mt_err_<field>` in
# `web.i18n`, filled with the model's limits): what shows next to a refused box, in the reader's language.
FORM_FIELDS: dict[str, dict[str, int]] = {
    "kind": {},
    "title": {"n": TITLE_LIMIT},
    "date": {},
    "time": {},
    "duration_minutes": {"low": DURATION_MIN, "high": DURATION_MAX},
    "languages": {"n": 3},
    "agenda": {"n": AGENDA_LIMIT},
    "location": {"n": TITLE_LIMIT},
}


def form_errors(exc: ValidationError, t: Callable[[str], str]) -> dict[str, str]:
    """A refused form's errors by field: a field of the form says what it takes; anything else (a field
    the form does not show) as the catalogue says it. `scheduled_at` is the date's box."""
    errors: dict[str, str] = {}
    for field, sentence in field_errors(exc).items():
        name = field.split(".")[0]
        name = "date" if name == "scheduled_at" else name
        if name in FORM_FIELDS:
            errors.setdefault(name, t(f"mt_err_{name}").format(**FORM_FIELDS[name]))
        else:
            errors.setdefault(name, sentence)
    return errors


class FormValues(BaseModel):
    """What the form shows: a meeting's values (or a new one's defaults), or what was posted."""

    kind: str = ""
    title: str = ""
    date: str = ""
    time: str = ""
    duration_minutes: str = "60"
    languages: list[str] = []
    agenda: str = ""
    location: str = ""
    record: bool = True
    version: int | None = None


def blank_form(services: Services, tenant_id: str, around: date | None = None) -> FormValues:
    """A new meeting's form: a janata darbar at 10:00 IST on `around` (tomorrow by default), in the
    office's languages, recorded."""
    config = load_agent_config(services, tenant_id)
    languages = [code for code in (config.languages if config else []) if code in LANGUAGES]
    day = around or _today_ist() + timedelta(days=1)
    return FormValues(kind="janata_darbar", date=day.isoformat(), time="10:00", languages=languages[:3])


def form_of(meeting: Meeting) -> FormValues:
    local = meeting.scheduled_at.astimezone(IST)
    return FormValues(
        kind=meeting.kind,
        title=meeting.title,
        date=local.date().isoformat(),
        time=local.strftime("%H:%M"),
        duration_minutes=str(meeting.duration_minutes),
        languages=meeting.languages,
        agenda=meeting.agenda,
        location=meeting.location,
        record=meeting.recording_wanted,
        version=meeting.version,
    )


def posted(form: FormData) -> FormValues:
    """The posted form as it was typed, to show again with its errors."""

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    main = text("main_language")
    ticked = [code for code in form.getlist("languages") if isinstance(code, str)]
    version = text("version")
    return FormValues(
        kind=text("kind"),
        title=text("title"),
        date=text("date"),
        time=text("time"),
        duration_minutes=text("duration_minutes"),
        languages=([main] if main else []) + [code for code in ticked if code != main],
        agenda=text("agenda"),
        location=text("location"),
        record=bool(text("record")),
        version=int(version) if version.isdigit() else None,
    )


def edit(services: Services, who: OfficeUser, meeting_id: uuid.UUID, form: FormData) -> Meeting:
    """The edit form saved: all of a scheduled meeting, a live one's words only (its form shows only
    those); refused (409 `stale`) when the meeting changed since the form was shown."""
    current = meetings.get(services, who.tenant_id, meeting_id)
    body = parse_form(form, LiveMeetingForm if current.status == "live" else MeetingForm)
    return meetings.change(services, who, meeting_id, body.update(), if_match=body.version)


def refusal(exc: AppError, t: Callable[[str], str]) -> str:
    """Why the meeting's page refused an action, in the reader's language: not now (the meeting is
    live, ended...), the host's only, or as the catalogue says it."""
    reasons = [str(d.get("reason")) for d in exc.details]
    if isinstance(exc, ConflictError) and reasons and reasons[0] in STATUSES:
        return t("mt_not_now").format(status=t(f"mt_s_{reasons[0]}"))
    if isinstance(exc, ConflictError) and "stale" in reasons:
        return t("mt_stale")
    if isinstance(exc, PermissionDeniedError):
        return t("mt_host_only")
    return " ".join(field_errors(exc).values())


# A meeting's page ----------------------------------------------------------------------------


class MeetingPage(BaseModel):
    """A meeting's page: what the signed-in person may do there, and its transcript so far."""

    meeting: MeetingDetail
    host: bool
    can_edit: bool
    can_cancel: bool
    can_delete: bool
    can_join: bool  # a live meeting, and a real LiveKit server the browser can reach
    livekit: bool
    transcript: Transcript


def meeting_page(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> MeetingPage:
    detail = meetings.get(services, who.tenant_id, meeting_id)
    status, livekit = detail.status, browser_calls.available(services)
    return MeetingPage(
        meeting=detail,
        host=meetings.is_host(who, detail),
        can_edit=status in ("scheduled", "live"),
        can_cancel=status == "scheduled",
        can_delete=status in ("scheduled", "cancelled") or (status == "ended" and who.role == "mla_admin"),
        can_join=status == "live" and livekit,
        livekit=livekit,
        transcript=meetings.transcript(services, who.tenant_id, meeting_id),
    )


def join(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> JoinToken:
    """The signed-in person's token to join the live meeting in the browser: only with a real LiveKit
    server (the local stand-in has no SFU for a browser to reach)."""
    if not browser_calls.available(services):
        raise ConflictError(
            "joining in the browser needs a real LiveKit server (LIVEKIT_URL=wss://…)",
            details=[{"field": "meeting_id", "reason": "livekit_not_configured"}],
        )
    return meetings.token(services, who, meeting_id, TokenRequest())


def participant(services: Services, who: OfficeUser, meeting_id: uuid.UUID, identity: str) -> Participant:
    """One participant of the meeting, for the question before removing them."""
    found = next(
        (p for p in meetings.get(services, who.tenant_id, meeting_id).participants if p.identity == identity), None
    )
    if found is None:
        raise NotFoundError(
            "no such participant in this meeting", details=[{"field": "identity", "reason": "no_such_participant"}]
        )
    return found
