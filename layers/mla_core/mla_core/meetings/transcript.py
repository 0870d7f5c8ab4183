"""A meeting's transcript as files: plain text for reading and printing, WebVTT for a player's captions
(timestamps from the meeting's start, each cue with its speaker as a voice span)."""

from __future__ import annotations

from mla_core.meetings.models import Segment, Transcript


def _clock(ms: int, *, vtt: bool) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return (
        f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}" if vtt else f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    )


def _one_line(text: str) -> str:
    """A cue's text on one line: a blank line or `-->` inside it would end or break the cue."""
    return " ".join(text.split()).replace("-->", "→")


def as_text(transcript: Transcript) -> str:
    """`[00:01:02] Speaker (ta): words`, one line per segment, under the meeting's title."""
    started = transcript.started_at.isoformat(timespec="minutes") if transcript.started_at else ""
    head = [transcript.title, started, ""] if started else [transcript.title, ""]
    lines = (
        f"[{_clock(s.start_ms, vtt=False)}] {_one_line(s.speaker)} ({s.language}): {_one_line(s.text)}"
        for s in transcript.segments
    )
    return "\n".join([*head, *lines]) + "\n"


def as_vtt(transcript: Transcript) -> str:
    """WebVTT (W3C): a cue per segment, `<v Speaker>` naming who spoke, `<lang>` the language."""
    return "WEBVTT\n\n" + "".join(_cue(s) for s in transcript.segments)


def _cue(segment: Segment) -> str:
    start, end = segment.start_ms, max(segment.end_ms, segment.start_ms + 1)
    speaker = _one_line(segment.speaker).replace(">", "›")
    return (
        f"{segment.id}\n{_clock(start, vtt=True)} --> {_clock(end, vtt=True)}\n"
        f"<v {speaker}><lang {segment.language}>{_escape(_one_line(segment.text))}</lang></v>\n\n"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
