"""A meeting's transcript as files (plain text, WebVTT), the join token's lifetime and the room names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from mla_core.core.names import meeting_of_room, meeting_room_name
from mla_core.meetings import transcript
from mla_core.meetings.meetings import TOKEN_MAX, TOKEN_MIN, _token_ttl
from mla_core.meetings.models import Meeting, Segment, Transcript

STARTED = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)


def segment(id: int, speaker: str, text: str, start_ms: int, end_ms: int, language: str = "ta") -> Segment:
    return Segment(
        id=id, participant_identity="p", speaker=speaker, speaker_label=None, language=language, text=text,
        start_ms=start_ms, end_ms=end_ms, is_final=True,
    )  # fmt: skip


def darbar(*segments: Segment) -> Transcript:
    return Transcript(
        meeting_id=uuid.uuid4(), title="Janata darbar", started_at=STARTED, segments=list(segments), next_after=None
    )


def meeting(scheduled_at: datetime, minutes: int) -> Meeting:
    return Meeting(
        id=uuid.uuid4(), kind="staff", title="t", agenda="", location="", languages=["en"], scheduled_at=scheduled_at,
        duration_minutes=minutes, status="live", room_name="r", recording="off", recording_wanted=False,
        recording_url=None, started_at=None, ended_at=None, created_by="user:x", created_at=STARTED,
        updated_at=STARTED, version=1,
    )  # fmt: skip


def test_the_text_names_each_speaker_with_the_time_and_language() -> None:
    text = transcript.as_text(darbar(segment(1, "Lakshmi", "தண்ணீர்\nவரவில்லை", 62_000, 65_000)))
    assert text.splitlines() == ["Janata darbar", "2026-12-05T04:30+00:00", "", "[00:01:02] Lakshmi (ta): தண்ணீர் வரவில்லை"]


def test_webvtt_cues_are_timed_from_the_start_with_their_voice_and_language() -> None:
    vtt = transcript.as_vtt(darbar(segment(7, "Hall · S1", "सड़क <टूटी> है", 3_723_004, 3_725_500, "hi")))
    assert vtt == ("WEBVTT\n\n7\n01:02:03.004 --> 01:02:05.500\n<v Hall · S1><lang hi>सड़क &lt;टूटी&gt; है</lang></v>\n\n")


def test_a_cue_cannot_be_broken_by_what_was_said() -> None:
    vtt = transcript.as_vtt(darbar(segment(1, "A>B", "one --> two\n\nthree", 0, 0)))
    cue = vtt.split("\n\n")[1]
    assert "00:00:00.000 --> 00:00:00.001" in cue and "one → two three" in cue and "<v A›B>" in cue


def test_a_token_lasts_until_an_hour_after_the_scheduled_end_within_bounds() -> None:
    now = datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert _token_ttl(meeting(now, 60), now) == timedelta(hours=2)
    assert _token_ttl(meeting(now - timedelta(hours=5), 60), now) == TOKEN_MIN
    assert _token_ttl(meeting(now, 720), now) == TOKEN_MAX


def test_a_meeting_room_names_its_tenant_and_meeting_and_no_other_room_does() -> None:
    meeting_id = str(uuid.uuid4())
    assert meeting_of_room(meeting_room_name("abcde12345", meeting_id)) == ("abcde12345", meeting_id)
    assert meeting_of_room("mla-abcde12345-call_+919840012345_x") is None
    assert meeting_of_room("mla-abcde12345") is None


def test_the_recording_is_written_with_the_role_and_external_id_livekit_assumes() -> None:
    from mla_core.adapters.livekit import RecordingTarget

    target = RecordingTarget(
        bucket="b",
        region="ap-south-1",
        prefix="recordings/t/m",
        role_arn="arn:aws:iam::1:role/egress",
        external_id="x1",
    )
    request = target.request("mla-t-meet-m")
    [output] = request.file_outputs
    assert request.audio_only and output.filepath == "recordings/t/m/{room_name}-{time}"
    assert (output.s3.assume_role_arn, output.s3.assume_role_external_id, output.s3.region) == (
        "arn:aws:iam::1:role/egress",
        "x1",
        "ap-south-1",
    )
