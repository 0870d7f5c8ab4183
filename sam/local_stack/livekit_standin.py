"""A LiveKit server API stand-in that the real `livekit-api` SDK talks to unchanged.

It speaks LiveKit's Twirp wire protocol: `POST /twirp/livekit.{Service}/{Method}` with a binary
protobuf body, a binary protobuf 200 answer, and errors as Twirp JSON `{"code": "not_found",
"msg": "..."}` with the code's HTTP status. The bearer JWT is verified with the project's key and
secret, and each method demands the grant the real server demands (`roomCreate`, `roomList`,
`sip.admin`).

What it models, for the calls the product makes (`mla_core.adapters.livekit`, and the shared
inbound trunk `local_stack.stack` makes at start), following `livekit/livekit` `pkg/service` and
`livekit/protocol` `sip/sip.go`:

- Rooms: CreateRoom is idempotent (an existing name returns the existing room unchanged, with the
  server's default timeouts); ListRooms by name; DeleteRoom of an unknown room is `not_found`
  ("room not found"), as `RoomService.DeleteRoom` answers after `LoadRoom` fails.
- Inbound trunks: CreateSIPInboundTrunk and ListSIPInboundTrunk (all of them).
- Dispatch rules in the `dispatch_rule=SIPDispatchRuleInfo(...)` form: create, list (all, or by
  trunk, where a rule without trunks serves every trunk), replace (UpdateSIPDispatchRule with
  `replace`) and delete (`not_found` when unknown). A rule whose (PIN, trunk, caller number, called
  number) combination is already taken is refused with `invalid_argument` and LiveKit's message
  ("Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists in
  dispatch rule ..."); numbers are normalised first, and an empty list is a wildcard that collides
  only with other wildcards. A rule without a rule, or naming an unknown trunk, is refused (the
  real server stores the latter silently and it never matches a call; we want that mistake loud).
- A meeting's room (`mla_core.adapters.livekit.ensure_meeting_room`): CreateRoom keeps the request (its
  `agents` and `egress`, which `Room` does not carry; `/local/rooms/{name}` shows it), and a room with an
  egress in its configuration starts one room-composite egress at once (the real server starts it with
  the room's first participant). UpdateRoomMetadata replaces a room's metadata; UpdateParticipant and
  RemoveParticipant answer for a room that exists (participants are not modelled: any identity is
  taken), and are recorded with their permission for tests to read (`/local/participants`).
- Egress: StartRoomCompositeEgress for an existing room, ListEgress (by room, by id, active only),
  StopEgress (an active egress goes `EGRESS_ENDING`, then `EGRESS_COMPLETE` with its file's location
  under the request's filepath; an egress that is not active is `failed_precondition`). DeleteRoom ends
  the room's active egresses the same way. No file is written and no `egress_ended` webhook is sent.
- Errors: an invalid token is a Twirp `unauthenticated` JSON error here (the real server answers a
  plain-text 401, which the SDK reports as code `unknown`), a missing grant is `unauthenticated`
  "permissions denied", an unknown method `bad_route`.
- State (rooms, trunks, rules) is saved as protobuf JSON in one file when `state_path` is given,
  and loaded again on start.
- Faults (see `serve`): a fault for `livekit.RoomService/CreateRoom` answers that method with the
  given status and a Twirp error of the matching code, before anything is parsed or stored.

What it does not model (a call the product might one day make would not show these here):

- Media: no WebRTC, no participants, no SIP signalling. A dispatch rule never receives a call,
  no agent is ever dispatched, and no webhook is ever sent (tests post signed webhook events to
  the product themselves).
- Agent dispatch (`AgentDispatchService`), the other egress kinds, ingress, outbound trunks, and the
  participant methods not listed above: `bad_route`. A room's `agents` are never dispatched.
- Forms and fields the product does not send are refused `unimplemented` rather than answered
  wrongly: the legacy flat CreateSIPDispatchRule form, UpdateSIPDispatchRule with `update`,
  ListSIPDispatchRule by rule id, ListSIPInboundTrunk filters. JSON Twirp bodies are not accepted.
- The server's trunk validation (the "for security" rule that a trunk name its callers, and
  overlapping trunk numbers), room lifetimes (an empty room is never closed), rate limits, regions
  and LiveKit Cloud's project quotas.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit import api
from livekit.api.access_token import Claims
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local_stack.serve import Faults, control_routes, read_state, write_state

__all__ = ["TwirpError", "create_app"]

log = logging.getLogger(__name__)

STATE_VERSION = 1

# The Twirp error codes this stand-in answers with, and their HTTP statuses (twitchtv/twirp
# `errors.go`); a fault's status is answered with the first code of that status.
_TWIRP_STATUS: dict[str, int] = {
    "invalid_argument": 400,
    "malformed": 400,
    "unauthenticated": 401,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "resource_exhausted": 429,
    "internal": 500,
    "failed_precondition": 412,
    "unimplemented": 501,
    "unavailable": 503,
}

# LiveKit's server defaults for a room created without timeouts (`config.RoomConfig`).
_DEFAULT_EMPTY_TIMEOUT = 300
_DEFAULT_DEPARTURE_TIMEOUT = 20
# The alphabet of LiveKit's `guid.New` ids (`RM_`, `ST_`, `SDR_` + 12 characters).
_GUID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_NUMBER = re.compile(r"^\+?[\d\- ()]+$")


class TwirpError(Exception):
    """A Twirp error answer: `code` is one of `_TWIRP_STATUS`, which gives the HTTP status."""

    def __init__(self, code: str, msg: str, *, status: int | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status or _TWIRP_STATUS[code]

    def response(self) -> JSONResponse:
        return JSONResponse({"code": self.code, "msg": self.msg}, status_code=self.status)


def _not_modelled(what: str) -> TwirpError:
    return TwirpError("unimplemented", f"{what} is not modelled by the LiveKit stand-in")


RequestT = TypeVar("RequestT", bound=Message)


@dataclass(frozen=True)
class _Method(Generic[RequestT]):
    """One Twirp method: how to parse it, who may call it, what it does."""

    request_type: type[RequestT]
    allowed: Callable[[Claims], bool]
    handler: Callable[[RequestT], Message]
    mutates: bool


@dataclass
class _State:
    """Everything the stand-in remembers, keyed the way LiveKit looks things up."""

    rooms: dict[str, api.Room] = field(default_factory=dict)  # by name
    trunks: dict[str, api.SIPInboundTrunkInfo] = field(default_factory=dict)  # by id
    rules: dict[str, api.SIPDispatchRuleInfo] = field(default_factory=dict)  # by id
    # A room's CreateRoom request as sent, for what `Room` does not carry (its agents and egress).
    room_requests: dict[str, api.CreateRoomRequest] = field(default_factory=dict)  # by room name
    egresses: dict[str, api.EgressInfo] = field(default_factory=dict)  # by egress id
    participant_updates: list[dict[str, Any]] = field(default_factory=list)  # UpdateParticipant, RemoveParticipant

    def to_json(self) -> dict[str, Any]:
        def dump(messages: Iterable[Message]) -> list[dict[str, Any]]:
            return [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in messages]

        return {
            "version": STATE_VERSION,
            "rooms": dump(self.rooms.values()),
            "trunks": dump(self.trunks.values()),
            "rules": dump(self.rules.values()),
            "room_requests": dump(self.room_requests.values()),
            "egresses": dump(self.egresses.values()),
        }

    @classmethod
    def from_json(cls, document: dict[str, Any] | None) -> _State:
        state = cls()
        if document is None:
            return state
        if document.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported LiveKit stand-in state version {document.get('version')!r}")
        for item in document["rooms"]:
            room = json_format.ParseDict(item, api.Room())
            state.rooms[room.name] = room
        for item in document["trunks"]:
            trunk = json_format.ParseDict(item, api.SIPInboundTrunkInfo())
            state.trunks[trunk.sip_trunk_id] = trunk
        for item in document["rules"]:
            rule = json_format.ParseDict(item, api.SIPDispatchRuleInfo())
            state.rules[rule.sip_dispatch_rule_id] = rule
        for item in document.get("room_requests", []):
            request = json_format.ParseDict(item, api.CreateRoomRequest())
            state.room_requests[request.name] = request
        for item in document.get("egresses", []):
            egress = json_format.ParseDict(item, api.EgressInfo())
            state.egresses[egress.egress_id] = egress
        return state


def create_app(api_key: str, api_secret: str, state_path: Path | None) -> Starlette:
    """The LiveKit stand-in as an ASGI app; `state_path` (optional) persists its state across restarts."""
    standin = _LiveKitStandIn(api_key, api_secret, state_path)
    routes = [
        *control_routes(standin.faults),
        Route("/twirp/{method:path}", standin.handle, methods=["POST"]),
        Route("/local/rooms/{name}", standin.room_request, methods=["GET"]),
        Route("/local/participants", standin.participant_updates, methods=["GET"]),
    ]
    return Starlette(routes=routes)


class _LiveKitStandIn:
    def __init__(self, api_key: str, api_secret: str, state_path: Path | None) -> None:
        self._verifier = api.TokenVerifier(api_key, api_secret)
        self._state_path = state_path
        self.state = _State.from_json(read_state(state_path))
        self.faults = Faults()
        self._methods: dict[str, _Method[Any]] = {
            "livekit.RoomService/CreateRoom": _Method(
                api.CreateRoomRequest, _can_create_rooms, self.create_room, mutates=True
            ),
            "livekit.RoomService/ListRooms": _Method(
                api.ListRoomsRequest, _can_list_rooms, self.list_rooms, mutates=False
            ),
            "livekit.RoomService/DeleteRoom": _Method(
                api.DeleteRoomRequest, _can_create_rooms, self.delete_room, mutates=True
            ),
            "livekit.RoomService/UpdateRoomMetadata": _Method(
                api.UpdateRoomMetadataRequest, _is_room_admin, self.update_room_metadata, mutates=True
            ),
            "livekit.RoomService/UpdateParticipant": _Method(
                api.UpdateParticipantRequest, _is_room_admin, self.update_participant, mutates=False
            ),
            "livekit.RoomService/RemoveParticipant": _Method(
                api.RoomParticipantIdentity, _is_room_admin, self.remove_participant, mutates=False
            ),
            "livekit.Egress/StartRoomCompositeEgress": _Method(
                api.RoomCompositeEgressRequest, _can_record, self.start_room_composite_egress, mutates=True
            ),
            "livekit.Egress/ListEgress": _Method(api.ListEgressRequest, _can_record, self.list_egress, mutates=False),
            "livekit.Egress/StopEgress": _Method(api.StopEgressRequest, _can_record, self.stop_egress, mutates=True),
            "livekit.SIP/CreateSIPInboundTrunk": _Method(
                api.CreateSIPInboundTrunkRequest, _is_sip_admin, self.create_inbound_trunk, mutates=True
            ),
            "livekit.SIP/ListSIPInboundTrunk": _Method(
                api.ListSIPInboundTrunkRequest, _is_sip_admin, self.list_inbound_trunks, mutates=False
            ),
            "livekit.SIP/CreateSIPDispatchRule": _Method(
                api.CreateSIPDispatchRuleRequest, _is_sip_admin, self.create_dispatch_rule, mutates=True
            ),
            "livekit.SIP/ListSIPDispatchRule": _Method(
                api.ListSIPDispatchRuleRequest, _is_sip_admin, self.list_dispatch_rules, mutates=False
            ),
            "livekit.SIP/UpdateSIPDispatchRule": _Method(
                api.UpdateSIPDispatchRuleRequest, _is_sip_admin, self.update_dispatch_rule, mutates=True
            ),
            "livekit.SIP/DeleteSIPDispatchRule": _Method(
                api.DeleteSIPDispatchRuleRequest, _is_sip_admin, self.delete_dispatch_rule, mutates=True
            ),
        }

    async def handle(self, request: Request) -> Response:
        name = request.path_params["method"]
        try:
            method = self._methods.get(name)
            if method is None:
                raise TwirpError("bad_route", f'no handler for path "/twirp/{name}"')
            fault = self.faults.take(name)
            if fault is not None:
                log.info("livekit_standin.fault_injected", extra={"method": name, "status": fault.status})
                code = next((c for c, s in _TWIRP_STATUS.items() if s == fault.status), "internal")
                raise TwirpError(code, fault.message or "injected fault", status=fault.status)
            claims = self._authenticate(request)
            message = _parse(method.request_type, await request.body())
            if not method.allowed(claims):
                raise TwirpError("unauthenticated", "permissions denied")
            if method.allowed is _is_room_admin and not _admin_of(claims, getattr(message, "room", "")):
                raise TwirpError("unauthenticated", "permissions denied")
            reply = method.handler(message)
        except TwirpError as exc:
            log.info("livekit_standin.error", extra={"method": name, "code": exc.code, "detail": exc.msg})
            return exc.response()
        if method.mutates:
            write_state(self._state_path, self.state.to_json())
        log.info("livekit_standin.call", extra={"method": name})
        return Response(reply.SerializeToString(), media_type="application/protobuf")

    def _authenticate(self, request: Request) -> Claims:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TwirpError("unauthenticated", "missing authorization header")
        try:
            return self._verifier.verify(token)
        except Exception as exc:  # PyJWT raises a family of errors; all mean "not a valid token"
            raise TwirpError("unauthenticated", f"invalid authorization token: {exc}") from exc

    # RoomService

    def create_room(self, req: api.CreateRoomRequest) -> api.Room:
        existing = self.state.rooms.get(req.name)
        if existing is not None:
            return existing
        now = time.time()
        room = api.Room(
            sid=_guid("RM_"),
            name=req.name,
            empty_timeout=req.empty_timeout or _DEFAULT_EMPTY_TIMEOUT,
            departure_timeout=req.departure_timeout or _DEFAULT_DEPARTURE_TIMEOUT,
            max_participants=req.max_participants,
            metadata=req.metadata,
            creation_time=int(now),
            creation_time_ms=int(now * 1000),
        )
        self.state.rooms[room.name] = room
        if req.agents or req.HasField("egress"):
            self.state.room_requests[room.name] = req
        if req.egress.HasField("room"):
            composite = api.RoomCompositeEgressRequest()
            composite.CopyFrom(req.egress.room)
            composite.room_name = room.name
            self.start_room_composite_egress(composite)
        return room

    def update_room_metadata(self, req: api.UpdateRoomMetadataRequest) -> api.Room:
        room = self._room(req.room)
        room.metadata = req.metadata
        return room

    def update_participant(self, req: api.UpdateParticipantRequest) -> api.ParticipantInfo:
        self._room(req.room)
        permission = json_format.MessageToDict(req.permission, preserving_proto_field_name=True)
        self.state.participant_updates.append(
            {"method": "UpdateParticipant", "room": req.room, "identity": req.identity, "permission": permission}
        )
        return api.ParticipantInfo(identity=req.identity, permission=req.permission)

    def remove_participant(self, req: api.RoomParticipantIdentity) -> api.RemoveParticipantResponse:
        self._room(req.room)
        self.state.participant_updates.append(
            {"method": "RemoveParticipant", "room": req.room, "identity": req.identity}
        )
        return api.RemoveParticipantResponse()

    def _room(self, name: str) -> api.Room:
        room = self.state.rooms.get(name)
        if room is None:
            raise TwirpError("not_found", "requested room does not exist")
        return room

    # Egress

    def start_room_composite_egress(self, req: api.RoomCompositeEgressRequest) -> api.EgressInfo:
        room = self._room(req.room_name)
        info = api.EgressInfo(
            egress_id=_guid("EG_"),
            room_id=room.sid,
            room_name=room.name,
            status=api.EgressStatus.EGRESS_ACTIVE,
            started_at=time.time_ns(),
            updated_at=time.time_ns(),
        )
        info.room_composite.CopyFrom(req)
        self.state.egresses[info.egress_id] = info
        return info

    def list_egress(self, req: api.ListEgressRequest) -> api.ListEgressResponse:
        items = [
            info
            for info in self.state.egresses.values()
            if (not req.room_name or info.room_name == req.room_name)
            and (not req.egress_id or info.egress_id == req.egress_id)
            and (not req.active or info.status in _ACTIVE_EGRESS)
        ]
        return api.ListEgressResponse(items=items)

    def stop_egress(self, req: api.StopEgressRequest) -> api.EgressInfo:
        info = self.state.egresses.get(req.egress_id)
        if info is None:
            raise TwirpError("not_found", "egress does not exist")
        if info.status not in _ACTIVE_EGRESS:
            raise TwirpError("failed_precondition", "egress is not active")
        _complete(info)
        return info

    def room_request(self, request: Request) -> JSONResponse:
        """A room's CreateRoom request and its egresses, as protobuf JSON (what tests check)."""
        name = request.path_params["name"]
        if name not in self.state.rooms:
            return JSONResponse({"code": "not_found", "msg": "room not found"}, status_code=404)
        created = self.state.room_requests.get(name, api.CreateRoomRequest(name=name))
        egresses = [info for info in self.state.egresses.values() if info.room_name == name]
        return JSONResponse(
            {
                "room": json_format.MessageToDict(self.state.rooms[name]),
                "request": json_format.MessageToDict(created),
                "egresses": [json_format.MessageToDict(info) for info in egresses],
            }
        )

    def participant_updates(self, request: Request) -> JSONResponse:
        room = request.query_params.get("room")
        return JSONResponse([u for u in self.state.participant_updates if room is None or u["room"] == room])

    def list_rooms(self, req: api.ListRoomsRequest) -> api.ListRoomsResponse:
        rooms = [room for name, room in self.state.rooms.items() if not req.names or name in req.names]
        return api.ListRoomsResponse(rooms=rooms)

    def delete_room(self, req: api.DeleteRoomRequest) -> api.DeleteRoomResponse:
        if self.state.rooms.pop(req.room, None) is None:
            raise TwirpError("not_found", "room not found")
        self.state.room_requests.pop(req.room, None)
        for info in self.state.egresses.values():
            if info.room_name == req.room and info.status in _ACTIVE_EGRESS:
                _complete(info)
        return api.DeleteRoomResponse()

    # SIP: inbound trunks

    def create_inbound_trunk(self, req: api.CreateSIPInboundTrunkRequest) -> api.SIPInboundTrunkInfo:
        if not req.HasField("trunk"):
            raise TwirpError("invalid_argument", "missing trunk")
        trunk = api.SIPInboundTrunkInfo()
        trunk.CopyFrom(req.trunk)
        trunk.sip_trunk_id = _guid("ST_")
        trunk.created_at.GetCurrentTime()
        trunk.updated_at.CopyFrom(trunk.created_at)
        self.state.trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def list_inbound_trunks(self, req: api.ListSIPInboundTrunkRequest) -> api.ListSIPInboundTrunkResponse:
        if req.trunk_ids or req.numbers:
            raise _not_modelled("ListSIPInboundTrunk by id or number")
        return api.ListSIPInboundTrunkResponse(items=list(self.state.trunks.values()))

    # SIP: dispatch rules

    def create_dispatch_rule(self, req: api.CreateSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
        if not req.HasField("dispatch_rule"):
            raise _not_modelled("CreateSIPDispatchRule in the legacy flat form")
        rule = api.SIPDispatchRuleInfo()
        rule.CopyFrom(req.dispatch_rule)
        self._validate_rule(rule, replacing=None)
        rule.sip_dispatch_rule_id = _guid("SDR_")
        rule.created_at.GetCurrentTime()
        rule.updated_at.CopyFrom(rule.created_at)
        self.state.rules[rule.sip_dispatch_rule_id] = rule
        return rule

    def list_dispatch_rules(self, req: api.ListSIPDispatchRuleRequest) -> api.ListSIPDispatchRuleResponse:
        if req.dispatch_rule_ids:
            raise _not_modelled("ListSIPDispatchRule by rule id")
        rules = [rule for rule in self.state.rules.values() if _rule_serves_trunks(rule, req.trunk_ids)]
        return api.ListSIPDispatchRuleResponse(items=rules)

    def update_dispatch_rule(self, req: api.UpdateSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
        if req.WhichOneof("action") != "replace":
            raise _not_modelled("UpdateSIPDispatchRule without `replace`")
        current = self._rule(req.sip_dispatch_rule_id)
        updated = api.SIPDispatchRuleInfo()
        updated.CopyFrom(req.replace)
        updated.sip_dispatch_rule_id = current.sip_dispatch_rule_id
        updated.created_at.CopyFrom(current.created_at)
        self._validate_rule(updated, replacing=current.sip_dispatch_rule_id)
        updated.updated_at.GetCurrentTime()
        self.state.rules[updated.sip_dispatch_rule_id] = updated
        return updated

    def delete_dispatch_rule(self, req: api.DeleteSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
        rule = self._rule(req.sip_dispatch_rule_id)
        del self.state.rules[rule.sip_dispatch_rule_id]
        return rule

    def _rule(self, rule_id: str) -> api.SIPDispatchRuleInfo:
        rule = self.state.rules.get(rule_id)
        if rule is None:
            raise TwirpError("not_found", "requested sip dispatch rule does not exist")
        return rule

    def _validate_rule(self, rule: api.SIPDispatchRuleInfo, *, replacing: str | None) -> None:
        """The server's checks before a rule is stored: it has a rule, its trunks, no conflict."""
        if not rule.HasField("rule") or rule.rule.WhichOneof("rule") is None:
            raise TwirpError("invalid_argument", "missing rule")
        unknown = [trunk_id for trunk_id in rule.trunk_ids if trunk_id not in self.state.trunks]
        if unknown:
            raise TwirpError("not_found", f"requested sip trunk does not exist: {', '.join(unknown)}")
        others = [
            existing
            for existing in self.state.rules.values()
            if existing.sip_dispatch_rule_id != replacing and _rule_serves_trunks(existing, rule.trunk_ids)
        ]
        _check_rule_conflicts([*others, rule])


def _can_create_rooms(claims: Claims) -> bool:
    return bool(claims.video and claims.video.room_create)


def _can_list_rooms(claims: Claims) -> bool:
    return bool(claims.video and claims.video.room_list)


def _is_room_admin(claims: Claims) -> bool:
    return bool(claims.video and claims.video.room_admin)


def _admin_of(claims: Claims, room: str) -> bool:
    """A room admin's grant names its room (the SDK's tokens do): it administers that room only."""
    return bool(claims.video and claims.video.room_admin and claims.video.room == room)


def _can_record(claims: Claims) -> bool:
    return bool(claims.video and claims.video.room_record)


_ACTIVE_EGRESS = (api.EgressStatus.EGRESS_STARTING, api.EgressStatus.EGRESS_ACTIVE)


def _complete(info: api.EgressInfo) -> None:
    """An egress ended as LiveKit ends one: complete, with the file it wrote under its filepath."""
    now = time.time_ns()
    info.status = api.EgressStatus.EGRESS_COMPLETE
    info.ended_at = info.updated_at = now
    outputs = info.room_composite.file_outputs
    if outputs:
        output = outputs[0]
        path = output.filepath.replace("{room_name}", info.room_name).replace("{time}", str(now // 1_000_000_000))
        location = f"s3://{output.s3.bucket}/{path}.ogg" if output.s3.bucket else f"{path}.ogg"
        del info.file_results[:]
        info.file_results.append(api.FileInfo(filename=f"{path}.ogg", location=location, started_at=info.started_at))


def _is_sip_admin(claims: Claims) -> bool:
    return bool(claims.sip and claims.sip.admin)


def _parse(request_type: type[RequestT], body: bytes) -> RequestT:
    try:
        return request_type.FromString(body)
    except DecodeError as exc:
        raise TwirpError("malformed", f"the request could not be decoded: {exc}") from exc


def _guid(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_GUID_ALPHABET) for _ in range(12))


def _normalize_number(number: str) -> str:
    """LiveKit's `NormalizeNumber`: strip phone formatting and add a leading `+`; other text as is."""
    if not number or not _NUMBER.match(number):
        return number
    digits = re.sub(r"[ ()\-]", "", number)
    return digits if digits.startswith("+") else "+" + digits


def _rule_serves_trunks(rule: api.SIPDispatchRuleInfo, trunk_ids: Iterable[str]) -> bool:
    """`ListSIPDispatchRuleRequest.Filter`: a rule without trunks serves every trunk."""
    wanted = set(trunk_ids)
    return not wanted or not rule.trunk_ids or bool(wanted.intersection(rule.trunk_ids))


def _check_rule_conflicts(rules: Iterable[api.SIPDispatchRuleInfo]) -> None:
    """`sip.DispatchRuleValidator`: one rule per (PIN, trunk, caller number, called number)."""
    seen: dict[tuple[str, str, str, str], api.SIPDispatchRuleInfo] = {}
    for rule in rules:
        variant = rule.rule.WhichOneof("rule")
        pin = getattr(rule.rule, variant).pin if variant else ""
        for trunk in rule.trunk_ids or [""]:
            for caller in rule.inbound_numbers or [""]:
                for called in rule.numbers or [""]:
                    key = (pin, trunk, _normalize_number(caller), _normalize_number(called))
                    other = seen.get(key)
                    if other is not None:
                        # Go's %q of the id and the name, which is JSON's quoting for ASCII text.
                        raise TwirpError(
                            "invalid_argument",
                            "Dispatch rule for the same trunk, inbound number, number, and PIN combination "
                            f"already exists in dispatch rule {json.dumps(other.sip_dispatch_rule_id)} "
                            f"{json.dumps(other.name or '<blank name>')}",
                        )
                    seen[key] = rule
