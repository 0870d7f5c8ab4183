"""What a meeting room's webhook events change (`meetings.room_events.plan`): the same meeting in every
order, and nothing planned for an event that says nothing new."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from mla_core.meetings.models import Meeting, Participant
from mla_core.meetings.room_events import RoomEvent, folds, plan, role_of

STARTED = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)
NOW = STARTED + timedelta(hours=2)


def live(recording: str = "recording", **changes: object) -> Meeting:
    return Meeting(
        id=uuid.uuid4(), kind="janata_darbar", title="t", agenda="", location="", languages=["ta"],
        scheduled_at=STARTED, duration_minutes=60, status="live", room_name="r", recording=recording,
        recording_wanted=True, recording_url=None, started_at=STARTED, ended_at=None, created_by="user:x",
        created_at=STARTED, updated_at=STARTED, version=1,
    ).model_copy(update=changes)  # fmt: skip


def at(minutes: int) -> datetime:
    return STARTED + timedelta(minutes=minutes)


def fold(meeting: Meeting, people: dict[str, Participant], events: list[RoomEvent]) -> Meeting:
    """Each event planned against what the previous ones left, applied as the store applies it."""
    for event in events:
        change = plan(meeting, people.get(event.identity or ""), event, now=NOW)
        meeting = meeting.model_copy(update=dict(change.meeting))
        if (p := change.presence) is not None:
            known = people.get(p.identity)
            joined = [t for t in (known and known.joined_at, p.joined_at) if t]
            gone = [t for t in (known and known.left_at, p.left_at) if t]
            people[p.identity] = Participant(
                identity=p.identity, name=known.name if known else p.name, role=known.role if known else p.role,
                phone=None, hall_microphone=False, joined_at=min(joined, default=None), left_at=max(gone, default=None),
                muted=False, removed_at=None,
            )  # fmt: skip
    return meeting


def test_recording_events_in_every_order_end_stored_with_one_location() -> None:
    events = [
        RoomEvent("egress_started", at(0)),
        RoomEvent("egress_ended", at(50), recording_url="s3://b/2.ogg", egress_status="egress_complete"),
        RoomEvent("egress_ended", at(60), recording_url="s3://b/1.ogg", egress_status="egress_limit_reached"),
        RoomEvent("egress_ended", at(70), egress_status="egress_failed", egress_error="upload denied"),
    ]
    finals = {
        (m.recording, m.recording_url)
        for order in itertools.permutations(events)
        for m in [fold(live("pending"), {}, list(order))]
    }
    assert finals == {("stored", "s3://b/1.ogg")}


def test_a_retried_or_late_recording_event_plans_nothing() -> None:
    stored = live("stored", recording_url="s3://b/1.ogg")
    assert not plan(stored, None, RoomEvent("egress_started", at(0)), now=NOW)
    ended = RoomEvent("egress_ended", at(9), recording_url="s3://b/1.ogg", egress_status="egress_complete")
    assert not plan(stored, None, ended, now=NOW)
    assert not plan(stored, None, RoomEvent("egress_ended", at(9), egress_status="egress_failed"), now=NOW)


def test_a_stopped_recording_stays_stopped_until_a_file_is_stored_and_an_abort_is_no_failure() -> None:
    stopped = live("stopped")
    assert not plan(stopped, None, RoomEvent("egress_started", at(0)), now=NOW)
    assert not plan(stopped, None, RoomEvent("egress_ended", at(1), egress_status="egress_aborted"), now=NOW)
    failed = plan(stopped, None, RoomEvent("egress_ended", at(1), egress_status="egress_failed"), now=NOW)
    assert failed.meeting == {"recording": "failed"}
    file = RoomEvent("egress_ended", at(1), recording_url="s3://b/p.ogg", egress_status="egress_complete")
    assert plan(stopped, None, file, now=NOW).meeting == {"recording": "stored", "recording_url": "s3://b/p.ogg"}
    no_file = plan(live(), None, RoomEvent("egress_ended", at(1), egress_status="egress_complete"), now=NOW)
    assert no_file.meeting == {"recording": "failed"}


def test_joins_and_leaves_in_every_order_keep_the_first_join_and_the_last_leave() -> None:
    events = [
        RoomEvent("participant_joined", at(3), identity="citizen:1", name="Lakshmi", role="citizen"),
        RoomEvent("participant_left", at(10), identity="citizen:1"),
        RoomEvent("participant_joined", at(12), identity="citizen:1", name="Lakshmi's phone"),
        RoomEvent("participant_left", at(40), identity="citizen:1"),
    ]
    seen = set()
    for order in itertools.permutations(events):
        people: dict[str, Participant] = {}
        fold(live(), people, list(order))
        p = people["citizen:1"]
        seen.add((p.joined_at, p.left_at, p.role))
    assert seen == {(at(3), at(40), "citizen")}


def test_a_join_or_leave_that_says_nothing_new_plans_nothing() -> None:
    people: dict[str, Participant] = {}
    first = RoomEvent("participant_joined", at(3), identity="u")
    fold(live(), people, [first, RoomEvent("participant_left", at(30), identity="u")])
    assert not plan(live(), people["u"], RoomEvent("participant_joined", at(5), identity="u"), now=NOW)
    assert not plan(live(), people["u"], RoomEvent("participant_left", at(20), identity="u"), now=NOW)
    assert plan(live(), people["u"], RoomEvent("participant_left", at(31), identity="u"), now=NOW)


def test_a_participant_first_seen_in_a_webhook_takes_its_role_from_its_kind_and_attributes() -> None:
    assert role_of(RoomEvent("participant_joined", None, identity="a", agent=True, role="host")) == "notetaker"
    assert role_of(RoomEvent("participant_joined", None, identity="s", role="staff")) == "staff"
    assert role_of(RoomEvent("participant_joined", None, identity="x", role="mayor")) == "citizen"
    assert role_of(RoomEvent("participant_joined", None, identity="c")) == "citizen"
    unnamed = plan(live(), None, RoomEvent("participant_joined", at(1), identity="guest-7"), now=NOW)
    assert unnamed.presence is not None and unnamed.presence.name == "guest-7"
    assert not folds(RoomEvent("participant_joined", at(1)))  # no identity: nothing to fold
    assert not folds(RoomEvent("track_published", at(1), identity="u"))


def test_room_finished_ends_a_live_meeting_at_its_time_never_before_it_started() -> None:
    assert plan(live(), None, RoomEvent("room_finished", at(90)), now=NOW).meeting == {
        "status": "ended",
        "ended_at": at(90),
    }
    assert plan(live(), None, RoomEvent("room_finished", at(-5)), now=NOW).meeting["ended_at"] == STARTED
    assert plan(live(), None, RoomEvent("room_finished", None), now=NOW).meeting["ended_at"] == NOW
    for status in ("ended", "cancelled", "scheduled"):
        assert not plan(live(status=status), None, RoomEvent("room_finished", at(90)), now=NOW)
