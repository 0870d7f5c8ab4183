"""`/api/meetings`: the office's public hearings and staff meetings (MLA admins and staff of the caller's
own tenant; the host's controls for the meeting's host), their join tokens and their transcripts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from mla_core.http.deps import IfMatchDep, OfficeUserDep, ServicesDep
from mla_core.http.envelope import Envelope, ok
from mla_core.meetings import items, meetings, summary_jobs, transcript
from mla_core.meetings.models import (
    Item,
    ItemComplaint,
    ItemUpdate,
    JoinToken,
    Meeting,
    MeetingCreate,
    MeetingDetail,
    MeetingFilters,
    MeetingPage,
    MeetingUpdate,
    Participant,
    ParticipantAction,
    Summary,
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


@router.get(
    "/{meeting_id}/summary",
    response_model=Envelope[Summary],
    summary="The meeting's summary: minutes in its first language and English, decisions, actions, grievances",
    description="Written by a job after the meeting ends (`status` pending, then succeeded or failed); 404"
    " `no_summary` before that. Each item names the transcript segments it came from; a grievance made a"
    " complaint names it and its status. `cost_usd`, `llm_calls` and the tokens say what it cost.",
)
def get_summary(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(summary_jobs.get(svc, who.tenant_id, meeting_id))


class Queued(BaseModel):
    queued: bool


@router.post(
    "/{meeting_id}/summary",
    status_code=202,
    response_model=Envelope[Queued],
    summary="Write the summary again (a failed one, or one done before more was said); items reviewed stay",
    description="409 for a meeting that has not ended. `queued: false` when one is pending already.",
)
def summarise_again(meeting_id: MeetingId, who: OfficeUserDep, svc: ServicesDep) -> JSONResponse:
    return ok(Queued(queued=meetings.summarise_again(svc, who, meeting_id)), 202)


ItemId = Annotated[uuid.UUID, Path(description="the item's id")]


@router.patch(
    "/{meeting_id}/items/{item_id}",
    response_model=Envelope[Item],
    summary="Review an item: its words, place, category; accept, drop; an action's owner, due date, done",
    description="The owner must be an active member of the office. 409 for a move the item cannot make (a"
    " grievance that is a complaint cannot be dropped) or an `If-Match` naming an older version.",
)
def review_item(
    meeting_id: MeetingId, item_id: ItemId, body: ItemUpdate, who: OfficeUserDep, svc: ServicesDep, if_match: IfMatchDep
) -> JSONResponse:
    return ok(items.review(svc, who, meeting_id, item_id, body, if_match=if_match))


@router.post(
    "/{meeting_id}/items/{item_id}/complaint",
    response_model=Envelope[Item],
    summary="Make a grievance a complaint: its reference number, the SMS in the citizen's language, its SLA",
    description="Each field defaults to the item's (the category, the words, the place, the citizen's name and"
    " number if they gave them, the language they spoke). The same validation as a phoned-in complaint (422)."
    " Asked again, the same complaint: a grievance never becomes two.",
)
def make_complaint(
    meeting_id: MeetingId, item_id: ItemId, who: OfficeUserDep, svc: ServicesDep, body: ItemComplaint | None = None
) -> JSONResponse:
    return ok(items.to_complaint(svc, who, meeting_id, item_id, body or ItemComplaint()))


def _file(text: str, media_type: str, filename: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
