"""`/api/meetings`: the office's public hearings and staff meetings (MLA admins and staff of the caller's
own tenant; the host's controls for the meeting's host), their join tokens and their transcripts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, PlainTextResponse

from mla_core.http.deps import IfMatchDep, OfficeUserDep, ServicesDep
from mla_core.http.envelope import Envelope, ok
from mla_core.meetings import meetings, transcript
from mla_core.meetings.models import (
    JoinToken,
    Meeting,
    MeetingCreate,
    MeetingDetail,
    MeetingFilters,
    MeetingPage,
    MeetingUpdate,
    Participant,
    ParticipantAction,
    TokenRequest,
    Transcript,
)

router = APIRouter(prefix="/api/meetings", tags=["meetings"])
MeetingId = Annotated[uuid.UUID, Path(description="the meeting's id")]
Identity = Annotated[str, Path(max_length=120, description="the participant's identity, as the meeting lists it")]


@router.get(
    "",
    response_model=Envelope[MeetingPage],
    summary="The office's meetings: by status, kind and a window of days; keyset pages",
    description="Newest first by default; `order=asc` with `from`/`to` is the calendar's window, soonest first.",
)
def list_meetings(who: OfficeUserDep, svc: ServicesDep, filters: Annotated[MeetingFilters, Query()]) -> JSONResponse:
    return ok(meetings.list_meetings(svc, who.tenant_id, filters))


@router.post("", status_code=201, response_model=Envelope[Meeting], summary="Schedule a meeting")
def schedule(body: MeetingCreate, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(meetings.schedule(svc, who, body), 201)


@router.get("/{meeting_id}", response_model=Envelope[MeetingDetail], summary="A meeting with its participants")
def get_meeting(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    detail = meetings.get(svc, who.tenant_id, meeting_id)
    return ok(detail, headers={"ETag": f'"{detail.version}"'})


@router.put(
    "/{meeting_id}",
    response_model=Envelope[Meeting],
    summary="Edit a meeting (a live one's title, agenda and place only)",
    description="Fields left out stay as they are. 409 `conflict` for a meeting that is over, a live meeting's"
    " schedule, or `If-Match` naming an older version (detail reason `stale`).",
)
def update_meeting(
    meeting_id: MeetingId, body: MeetingUpdate, who: OfficeUserDep, svc: ServicesDep, if_match: IfMatchDep
) -> JSONResponse:
    return ok(meetings.change(svc, who, meeting_id, body, if_match=if_match))


@router.delete(
    "/{meeting_id}",
    response_model=Envelope[Meeting],
    summary="Delete a meeting (one that was held, with its transcript: MLA admins)",
    description="409 for a live meeting: end it first. `POST /cancel` keeps a scheduled meeting, cancelled.",
)
def delete_meeting(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(meetings.delete(svc, who, meeting_id))


@router.post("/{meeting_id}/cancel", response_model=Envelope[Meeting], summary="Cancel a scheduled meeting")
def cancel_meeting(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(meetings.cancel(svc, who, meeting_id))


@router.post(
    "/{meeting_id}/start",
    response_model=Envelope[Meeting],
    summary="Start the meeting (its host): the room opens with the AI note-taker and the recording",
    description="503 when LiveKit is unavailable (nothing changed: try again); starting a live meeting again"
    " only makes sure its room is there.",
)
def start_meeting(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(meetings.start(svc, who, meeting_id))


@router.post(
    "/{meeting_id}/end",
    response_model=Envelope[Meeting],
    summary="End the meeting (its host): everyone leaves the room, the recording is stored",
)
def end_meeting(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(meetings.end(svc, who, meeting_id))


@router.post(
    "/{meeting_id}/token",
    response_model=Envelope[JoinToken],
    summary="A token to join the live meeting: yours by your role, or (the host) a citizen's",
    description="An MLA admin or the meeting's creator joins as host (room admin), other staff as staff. With"
    " `role: citizen` the host gets a citizen's token (the microphone only; `hall_microphone` for the hall's"
    " shared microphone, whose speakers the note-taker tells apart). The token expires an hour after the"
    " meeting's scheduled end (30 minutes at least, 6 hours at most). 409 before the meeting starts.",
)
def join_token(
    meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep, body: TokenRequest | None = None
) -> JSONResponse:
    return ok(meetings.token(svc, who, meeting_id, body or TokenRequest()))


@router.post(
    "/{meeting_id}/participants/{identity}",
    response_model=Envelope[Participant],
    summary="The host mutes, unmutes or removes a participant of the live meeting",
    description="A mute takes away the right to publish until unmuted; a removed participant gets no new token.",
)
def act_on_participant(
    meeting_id: MeetingId, identity: Identity, body: ParticipantAction, who: OfficeUserDep, svc: ServicesDep
) -> JSONResponse:
    return ok(meetings.act_on_participant(svc, who, meeting_id, identity, body))


@router.post(
    "/{meeting_id}/recording/stop",
    response_model=Envelope[Meeting],
    summary="The host stops the recording: the audio and the transcript stop for the rest of the meeting",
)
def stop_recording(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(meetings.stop_recording(svc, who, meeting_id))


@router.get(
    "/{meeting_id}/transcript",
    response_model=Envelope[Transcript],
    summary="The transcript, per speaker, in the order it was spoken",
    description="`after` a segment id gives only what was stored since (the live page's next read).",
)
def get_transcript(
    meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep, after: Annotated[int, Query(ge=0)] = 0
) -> JSONResponse:
    return ok(meetings.transcript(svc, who.tenant_id, meeting_id, after=after))


@router.get(
    "/{meeting_id}/transcript.txt",
    response_class=PlainTextResponse,
    summary="The transcript as plain text: `[hh:mm:ss] Speaker (language): words`",
)
def transcript_text(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> PlainTextResponse:
    text = transcript.as_text(meetings.transcript(svc, who.tenant_id, meeting_id))
    return _file(text, "text/plain", f"meeting-{meeting_id}.txt")


@router.get(
    "/{meeting_id}/transcript.vtt",
    response_class=PlainTextResponse,
    summary="The transcript as WebVTT captions, timed from the meeting's start, each cue with its speaker",
)
def transcript_vtt(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> PlainTextResponse:
    text = transcript.as_vtt(meetings.transcript(svc, who.tenant_id, meeting_id))
    return _file(text, "text/vtt", f"meeting-{meeting_id}.vtt")


def _file(text: str, media_type: str, filename: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
