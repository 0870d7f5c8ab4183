"""LiveKit webhooks: each event's signature checked, and the event read into plain fields.

LiveKit signs every event: the JWT in `Authorization` carries the base64 SHA-256 of the body, so
the body is checked as the raw bytes that arrived. Errors are ours: `AuthenticationError` (401)
for anything not signed with our key, `MalformedEventError` (400) for a signed body that is not an
event, `ConfigurationError` when the key is not set.

The LiveKit SDK and protobuf load with the first event, not when this module is imported, so the
webhook function's cold start does not pay for them.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NoReturn

from typing_extensions import TypedDict

from mla_core.core.errors import AppError, AuthenticationError, ConfigurationError

if TYPE_CHECKING:
    from livekit import api

_UNSIGNED = "webhook signature is missing or invalid"
# An egress's error is for the log: a long one is cut rather than the whole event refused.
ERROR_LIMIT = 500


class MalformedEventError(AppError):
    """A correctly signed body that is not a usable LiveKit event (LiveKit does not retry a 400)."""

    status_code = 400
    code = "malformed_event"


class EventFields(TypedDict):
    """What we read of one LiveKit `WebhookEvent`; empty strings and zeros are LiveKit's "unset"."""

    id: str
    event: str
    room_name: str
    created_at: int  # unix seconds
    sip_participant: bool
    agent_participant: bool
    participant_identity: str | None
    participant_name: str | None
    participant_role: str | None  # the `mla.role` attribute our meeting tokens carry
    caller_number: str | None
    dialed_number: str | None
    disconnect_reason: str | None  # the SDK's enum name in lower case: `client_initiated`
    room_end_reason: str | None
    recording_url: str | None
    egress_status: str | None  # `egress_complete`, `egress_failed`, …
    egress_error: str | None  # at most ERROR_LIMIT characters of LiveKit's
    num_dropped: int


def receive(body: bytes, authorization: str, *, api_key: str, api_secret: str) -> EventFields:
    """The fields of the event LiveKit signed with our key, checked on the raw `body`."""
    from google.protobuf.json_format import ParseError
    from livekit import api

    token = authorization.strip()
    if token[:7].lower() == "bearer ":  # LiveKit sends the bare JWT; a proxy may add the scheme
        token = token[7:].strip()
    if not token:
        raise AuthenticationError(_UNSIGNED)
    verifier = _verifier(api_key, api_secret)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        _refuse_undecodable(verifier, token, body)
    try:
        event = api.WebhookReceiver(verifier).receive(text, token)
    except (ParseError, RecursionError) as exc:  # only raised once the signature and the hash matched
        raise MalformedEventError("the body is signed but is not a LiveKit webhook event") from exc
    except Exception as exc:  # the SDK raises bare Exception for a hash mismatch
        raise AuthenticationError(_UNSIGNED) from exc
    return _fields(event)


@lru_cache(maxsize=4)
def _verifier(api_key: str, api_secret: str) -> api.TokenVerifier:
    from livekit import api

    if not api_key or not api_secret:
        raise ConfigurationError("LIVEKIT_API_KEY and LIVEKIT_API_SECRET are needed to verify webhooks")
    return api.TokenVerifier(api_key, api_secret)


def _refuse_undecodable(verifier: api.TokenVerifier, token: str, body: bytes) -> NoReturn:
    """A body that is not UTF-8 is no event: 400 if our key signed these very bytes, else 401."""
    try:
        claims = verifier.verify(token)
        signed = base64.b64decode(claims.sha256 or "") == hashlib.sha256(body).digest()
    except Exception as exc:
        raise AuthenticationError(_UNSIGNED) from exc
    if not signed:
        raise AuthenticationError(_UNSIGNED)
    raise MalformedEventError("the body is signed but is not UTF-8 JSON")


def _fields(event: api.WebhookEvent) -> EventFields:
    from livekit import api

    participant, egress = event.participant, event.egress_info
    locations = [f.location for f in (*egress.file_results, egress.file)]
    locations += [s.playlist_location for s in egress.segment_results]
    return {
        "id": event.id,
        "event": event.event,
        "room_name": event.room.name or egress.room_name,  # egress events name the room in egress_info
        "created_at": event.created_at,
        "sip_participant": participant.kind == api.ParticipantInfo.Kind.SIP,
        "agent_participant": participant.kind == api.ParticipantInfo.Kind.AGENT,
        "participant_identity": participant.identity or None,
        "participant_name": participant.name or None,
        "participant_role": participant.attributes.get("mla.role") or None,
        "caller_number": participant.attributes.get("sip.phoneNumber"),
        "dialed_number": participant.attributes.get("sip.trunkPhoneNumber"),
        "disconnect_reason": _enum_name(api.DisconnectReason, participant.disconnect_reason),
        "room_end_reason": _enum_name(api.RoomEndReason, event.room_end_reason),
        "recording_url": next((location for location in locations if location), None),
        "egress_status": _enum_name(api.EgressStatus, egress.status),
        "egress_error": egress.error[:ERROR_LIMIT] or None,
        "num_dropped": event.num_dropped,
    }


def _enum_name(enum: Any, value: int) -> str | None:
    """`CLIENT_INITIATED` → `client_initiated`; unset (0) or a number this SDK does not know → None."""
    if not value:
        return None
    try:
        return str(enum.Name(value)).lower()
    except ValueError:
        return None
