"""A LiveKit server API stand-in that the real `livekit-api` SDK talks to unchanged.

It speaks LiveKit's Twirp wire protocol: `POST /twirp/livekit.{Service}/{Method}`, a binary protobuf
request (JSON is accepted too, as any Twirp server does), a binary protobuf 200 answer, and errors
as Twirp JSON `{"code": "not_found", "msg": "..."}` with the code's HTTP status. The bearer JWT is
verified with the project's key and secret, and each method demands the grant the real server
demands (`roomCreate`, `roomList`, `roomAdmin` for the room, `sip.admin`).

What it keeps (rooms, inbound SIP trunks, dispatch rules, agent dispatches) follows LiveKit's rules
where our code depends on them, read from `livekit/livekit` `pkg/service` and `livekit/protocol`
`sip/sip.go` / `livekit/sip.go`:

- CreateRoom is idempotent: an existing name returns the existing room unchanged. Agents listed in
  the request become agent dispatches of the room, as on the server.
- DeleteRoom of an unknown room is `not_found` ("room not found"), as `RoomService.DeleteRoom` does
  after `LoadRoom` fails; it also drops the room's dispatches.
- Inbound trunks need auth, allowed addresses or numbers, and may not overlap another trunk's
  numbers (`ValidateTrunks`). DeleteSIPTrunk is idempotent, as on the server (it only `HDEL`s).
- Dispatch rules are accepted in the current `dispatch_rule=SIPDispatchRuleInfo(...)` form and in
  the legacy flat form. A rule whose (PIN, trunk, caller number, called number) combination is
  already taken is refused with `invalid_argument`, the message LiveKit uses ("Dispatch rule for
  the same trunk, inbound number, number, and PIN combination already exists in dispatch rule
  ..."); an empty trunk or number list is a wildcard that collides only with other wildcards.
- Stand-in choices where the server has no rule we can read: a rule naming an unknown trunk is
  `not_found` (the real server stores it silently, and such a rule never matches a call; we want
  that mistake loud), CreateDispatch creates its room when missing, ListDispatch of an unknown room
  is `not_found`.
- An invalid token is a Twirp `unauthenticated` JSON error here; the real server answers a plain
  text 401, which the SDK reports as code `unknown`.

State is saved as protobuf JSON (`google.protobuf.json_format`) in one file when `state_path` is
given and loaded again on start. Tests steer failures through `/_standin/faults` (see `serve`):
a fault for `livekit.SIP/CreateSIPDispatchRule` answers that method with the given status and a
Twirp error of the matching code, before anything is parsed or stored.
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

# Twirp's error codes and their HTTP statuses (twitchtv/twirp `errors.go`).
TWIRP_STATUS: dict[str, int] = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}
_CODE_FOR_STATUS: dict[int, str] = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    408: "deadline_exceeded",
    409: "already_exists",
    412: "failed_precondition",
    429: "resource_exhausted",
    500: "internal",
    501: "unimplemented",
    503: "unavailable",
}

# LiveKit's server defaults for a room created without timeouts (`config.RoomConfig`).
_DEFAULT_EMPTY_TIMEOUT = 300
_DEFAULT_DEPARTURE_TIMEOUT = 20
# The alphabet of LiveKit's `guid.New` ids (`RM_`, `ST_`, `SDR_`, `AD_` + 12 characters).
_GUID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_NUMBER = re.compile(r"^\+?[\d\- ()]+$")


class TwirpError(Exception):
    """A Twirp error answer: `code` is one of `TWIRP_STATUS`, which also gives the HTTP status."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg

    @property
    def status(self) -> int:
        return TWIRP_STATUS.get(self.code, 500)

    def response(self) -> JSONResponse:
        return JSONResponse({"code": self.code, "msg": self.msg}, status_code=self.status)


RequestT = TypeVar("RequestT", bound=Message)


@dataclass(frozen=True)
class _Method(Generic[RequestT]):
    """One Twirp method: how to parse it, who may call it, what it does."""

    request_type: type[RequestT]
    allowed: Callable[[Claims, RequestT], bool]
    handler: Callable[[RequestT], Message]
    mutates: bool


@dataclass
class _State:
    """Everything the stand-in remembers, keyed the way LiveKit looks things up."""

    rooms: dict[str, api.Room] = field(default_factory=dict)  # by name
    trunks: dict[str, api.SIPInboundTrunkInfo] = field(default_factory=dict)  # by id
    rules: dict[str, api.SIPDispatchRuleInfo] = field(default_factory=dict)  # by id
    dispatches: dict[str, api.AgentDispatch] = field(default_factory=dict)  # by id

    def to_json(self) -> dict[str, Any]:
        def dump(messages: Iterable[Message]) -> list[dict[str, Any]]:
            return [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in messages]

        return {
            "version": STATE_VERSION,
            "rooms": dump(self.rooms.values()),
            "trunks": dump(self.trunks.values()),
            "rules": dump(self.rules.values()),
            "dispatches": dump(self.dispatches.values()),
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
        for item in document["dispatches"]:
            dispatch = json_format.ParseDict(item, api.AgentDispatch())
            state.dispatches[dispatch.id] = dispatch
        return state


def create_app(api_key: str, api_secret: str, state_path: Path | None) -> Starlette:
    """The LiveKit stand-in as an ASGI app; `state_path` (optional) persists its state across restarts."""
    standin = _LiveKitStandIn(api_key, api_secret, state_path)
    routes = [
        *control_routes(standin.faults),
        Route("/twirp/{method:path}", standin.handle, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
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
            "livekit.SIP/CreateSIPInboundTrunk": _Method(
                api.CreateSIPInboundTrunkRequest, _is_sip_admin, self.create_inbound_trunk, mutates=True
            ),
            "livekit.SIP/ListSIPInboundTrunk": _Method(
                api.ListSIPInboundTrunkRequest, _is_sip_admin, self.list_inbound_trunks, mutates=False
            ),
            "livekit.SIP/DeleteSIPTrunk": _Method(
                api.DeleteSIPTrunkRequest, _is_sip_admin, self.delete_trunk, mutates=True
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
            "livekit.AgentDispatchService/CreateDispatch": _Method(
                api.CreateAgentDispatchRequest, _is_admin_of_room, self.create_dispatch, mutates=True
            ),
            "livekit.AgentDispatchService/ListDispatch": _Method(
                api.ListAgentDispatchRequest, _is_admin_of_room, self.list_dispatches, mutates=False
            ),
            "livekit.AgentDispatchService/DeleteDispatch": _Method(
                api.DeleteAgentDispatchRequest, _is_admin_of_room, self.delete_dispatch, mutates=True
            ),
        }

    async def handle(self, request: Request) -> Response:
        name = request.path_params["method"]
        try:
            if request.method != "POST":
                raise TwirpError("bad_route", f"unsupported method {request.method} (only POST is allowed)")
            method = self._methods.get(name)
            if method is None:
                raise TwirpError("bad_route", f'no handler for path "/twirp/{name}"')
            fault = self.faults.take(name)
            if fault is not None:
                log.info("livekit_standin.fault_injected", extra={"method": name, "status": fault.status})
                code = _CODE_FOR_STATUS.get(fault.status, "internal" if fault.status >= 500 else "malformed")
                return JSONResponse({"code": code, "msg": fault.message or "injected fault"}, status_code=fault.status)
            claims = self._authenticate(request)
            as_json = request.headers.get("content-type", "").startswith("application/json")
            message = _parse(method.request_type, await request.body(), as_json=as_json)
            if not method.allowed(claims, message):
                raise TwirpError("unauthenticated", "permissions denied")
            reply = method.handler(message)
        except TwirpError as exc:
            log.info("livekit_standin.error", extra={"method": name, "code": exc.code, "detail": exc.msg})
            return exc.response()
        if method.mutates:
            write_state(self._state_path, self.state.to_json())
        log.info("livekit_standin.call", extra={"method": name})
        if as_json:
            body = json_format.MessageToJson(
                reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
            return Response(body, media_type="application/json")
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
        for agent in req.agents:
            self._add_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=agent.agent_name,
                    room=room.name,
                    metadata=agent.metadata,
                    restart_policy=agent.restart_policy,
                    deployment=agent.deployment,
                    attributes=agent.attributes,
                )
            )
        return room

    def list_rooms(self, req: api.ListRoomsRequest) -> api.ListRoomsResponse:
        rooms = [room for name, room in self.state.rooms.items() if not req.names or name in req.names]
        return api.ListRoomsResponse(rooms=rooms)

    def delete_room(self, req: api.DeleteRoomRequest) -> api.DeleteRoomResponse:
        if self.state.rooms.pop(req.room, None) is None:
            raise TwirpError("not_found", "room not found")
        for dispatch_id in [d.id for d in self.state.dispatches.values() if d.room == req.room]:
            del self.state.dispatches[dispatch_id]
        return api.DeleteRoomResponse()

    # SIP: inbound trunks

    def create_inbound_trunk(self, req: api.CreateSIPInboundTrunkRequest) -> api.SIPInboundTrunkInfo:
        if not req.HasField("trunk"):
            raise TwirpError("invalid_argument", "missing trunk")
        trunk = api.SIPInboundTrunkInfo()
        trunk.CopyFrom(req.trunk)
        if trunk.sip_trunk_id:
            raise TwirpError("invalid_argument", "trunk id must not be set")
        if not (trunk.auth_username or trunk.auth_password or trunk.allowed_addresses or trunk.numbers):
            raise TwirpError(
                "invalid_argument",
                "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers",
            )
        _check_trunk_conflicts([*self.state.trunks.values(), trunk])
        trunk.sip_trunk_id = _guid("ST_")
        trunk.created_at.GetCurrentTime()
        trunk.updated_at.CopyFrom(trunk.created_at)
        self.state.trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def list_inbound_trunks(self, req: api.ListSIPInboundTrunkRequest) -> api.ListSIPInboundTrunkResponse:
        wanted_numbers = {_normalize_number(n) for n in req.numbers}

        def listed(trunk: api.SIPInboundTrunkInfo) -> bool:
            if req.trunk_ids and trunk.sip_trunk_id not in req.trunk_ids:
                return False
            if wanted_numbers and trunk.numbers:
                return any(_normalize_number(n) in wanted_numbers for n in trunk.numbers)
            return True

        return api.ListSIPInboundTrunkResponse(items=[t for t in self.state.trunks.values() if listed(t)])

    def delete_trunk(self, req: api.DeleteSIPTrunkRequest) -> api.SIPTrunkInfo:
        if not req.sip_trunk_id:
            raise TwirpError("invalid_argument", "trunk ID is required")
        self.state.trunks.pop(req.sip_trunk_id, None)
        return api.SIPTrunkInfo(sip_trunk_id=req.sip_trunk_id)

    # SIP: dispatch rules

    def create_dispatch_rule(self, req: api.CreateSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
        rule = _rule_from_create_request(req)
        self._validate_rule(rule, replacing=None)
        rule.sip_dispatch_rule_id = _guid("SDR_")
        rule.created_at.GetCurrentTime()
        rule.updated_at.CopyFrom(rule.created_at)
        self.state.rules[rule.sip_dispatch_rule_id] = rule
        return rule

    def list_dispatch_rules(self, req: api.ListSIPDispatchRuleRequest) -> api.ListSIPDispatchRuleResponse:
        rules = [
            rule
            for rule in self.state.rules.values()
            if (not req.dispatch_rule_ids or rule.sip_dispatch_rule_id in req.dispatch_rule_ids)
            and _rule_serves_trunks(rule, req.trunk_ids)
        ]
        return api.ListSIPDispatchRuleResponse(items=rules)

    def update_dispatch_rule(self, req: api.UpdateSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
        if not req.sip_dispatch_rule_id:
            raise TwirpError("invalid_argument", "rule id must be set")
        current = self._rule(req.sip_dispatch_rule_id)
        action = req.WhichOneof("action")
        updated = api.SIPDispatchRuleInfo()
        if action == "replace":
            if req.replace.sip_dispatch_rule_id not in ("", req.sip_dispatch_rule_id):
                raise TwirpError("invalid_argument", "rule id in the info must be empty or match the id in the update")
            updated.CopyFrom(req.replace)
            updated.sip_dispatch_rule_id = current.sip_dispatch_rule_id
            updated.created_at.CopyFrom(current.created_at)
        elif action == "update":
            updated.CopyFrom(current)
            _apply_rule_update(updated, req.update)
        else:
            raise TwirpError("invalid_argument", "missing or unsupported update action")
        self._validate_rule(updated, replacing=current.sip_dispatch_rule_id)
        updated.updated_at.GetCurrentTime()
        self.state.rules[updated.sip_dispatch_rule_id] = updated
        return updated

    def delete_dispatch_rule(self, req: api.DeleteSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
        if not req.sip_dispatch_rule_id:
            raise TwirpError("invalid_argument", "dispatch rule ID is required")
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

    # AgentDispatchService

    def create_dispatch(self, req: api.CreateAgentDispatchRequest) -> api.AgentDispatch:
        if req.room not in self.state.rooms:
            self.create_room(api.CreateRoomRequest(name=req.room))
        return self._add_dispatch(req)

    def list_dispatches(self, req: api.ListAgentDispatchRequest) -> api.ListAgentDispatchResponse:
        if req.room not in self.state.rooms:
            raise TwirpError("not_found", "room not found")
        dispatches = [
            d
            for d in self.state.dispatches.values()
            if d.room == req.room and (not req.dispatch_id or d.id == req.dispatch_id)
        ]
        return api.ListAgentDispatchResponse(agent_dispatches=dispatches)

    def delete_dispatch(self, req: api.DeleteAgentDispatchRequest) -> api.AgentDispatch:
        dispatch = self.state.dispatches.get(req.dispatch_id)
        if dispatch is None or dispatch.room != req.room:
            raise TwirpError("not_found", "dispatch not found")
        del self.state.dispatches[dispatch.id]
        dispatch.state.deleted_at = time.time_ns()
        return dispatch

    def _add_dispatch(self, req: api.CreateAgentDispatchRequest) -> api.AgentDispatch:
        dispatch = api.AgentDispatch(
            id=_guid("AD_"),
            agent_name=req.agent_name,
            room=req.room,
            metadata=req.metadata,
            restart_policy=req.restart_policy,
            deployment=req.deployment,
            attributes=req.attributes,
            state=api.AgentDispatchState(created_at=time.time_ns()),
        )
        self.state.dispatches[dispatch.id] = dispatch
        return dispatch


def _can_create_rooms(claims: Claims, _: Message) -> bool:
    return bool(claims.video and claims.video.room_create)


def _can_list_rooms(claims: Claims, _: Message) -> bool:
    return bool(claims.video and claims.video.room_list)


def _is_sip_admin(claims: Claims, _: Message) -> bool:
    return bool(claims.sip and claims.sip.admin)


def _is_admin_of_room(
    claims: Claims,
    req: api.CreateAgentDispatchRequest | api.ListAgentDispatchRequest | api.DeleteAgentDispatchRequest,
) -> bool:
    return bool(claims.video and claims.video.room_admin and claims.video.room == req.room)


def _parse(request_type: type[RequestT], body: bytes, *, as_json: bool) -> RequestT:
    try:
        if as_json:
            return json_format.Parse(body, request_type(), ignore_unknown_fields=True)
        return request_type.FromString(body)
    except (DecodeError, json_format.ParseError) as exc:
        raise TwirpError("malformed", f"the request could not be decoded: {exc}") from exc


def _guid(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_GUID_ALPHABET) for _ in range(12))


def _normalize_number(number: str) -> str:
    """LiveKit's `NormalizeNumber`: strip phone formatting and add a leading `+`; other text as is."""
    if not number or not _NUMBER.match(number):
        return number
    digits = re.sub(r"[ ()\-]", "", number)
    return digits if digits.startswith("+") else "+" + digits


def _go_quote(text: str) -> str:
    """Go's `%q` for the ASCII ids and names that appear in LiveKit's error messages."""
    return json.dumps(text)


def _printed_id(identifier: str) -> str:
    return identifier or "<new>"


def _rule_from_create_request(req: api.CreateSIPDispatchRuleRequest) -> api.SIPDispatchRuleInfo:
    """`CreateSIPDispatchRuleRequest.DispatchRuleInfo()`: the current form wins over the legacy one."""
    rule = api.SIPDispatchRuleInfo()
    if req.HasField("dispatch_rule"):
        if req.dispatch_rule.sip_dispatch_rule_id:
            raise TwirpError("invalid_argument", "rule id must not be set")
        rule.CopyFrom(req.dispatch_rule)
        return rule
    if req.HasField("rule"):
        rule.rule.CopyFrom(req.rule)
    if req.HasField("room_config"):
        rule.room_config.CopyFrom(req.room_config)
    rule.trunk_ids.extend(req.trunk_ids)
    rule.inbound_numbers.extend(req.inbound_numbers)
    rule.hide_phone_number = req.hide_phone_number
    rule.name = req.name
    rule.metadata = req.metadata
    rule.attributes.update(req.attributes)
    rule.room_preset = req.room_preset
    return rule


def _rule_serves_trunks(rule: api.SIPDispatchRuleInfo, trunk_ids: Iterable[str]) -> bool:
    """`ListSIPDispatchRuleRequest.Filter`: a rule without trunks serves every trunk."""
    wanted = set(trunk_ids)
    return not wanted or not rule.trunk_ids or bool(wanted.intersection(rule.trunk_ids))


def _apply_rule_update(rule: api.SIPDispatchRuleInfo, update: api.SIPDispatchRuleUpdate) -> None:
    """`SIPDispatchRuleUpdate.Apply`: only the fields present in the update change."""
    if update.HasField("trunk_ids"):
        new_trunks = _apply_list_update(list(rule.trunk_ids), update.trunk_ids)
        del rule.trunk_ids[:]
        rule.trunk_ids.extend(new_trunks)
    if update.HasField("rule"):
        rule.rule.CopyFrom(update.rule)
    if update.HasField("name"):
        rule.name = update.name
    if update.HasField("metadata"):
        rule.metadata = update.metadata
    if update.HasField("media_encryption"):
        rule.media_encryption = update.media_encryption
    if update.HasField("media"):
        rule.media.CopyFrom(update.media)
    for key, value in update.attributes.items():
        if value:
            rule.attributes[key] = value
        else:
            rule.attributes.pop(key, None)


def _apply_list_update(current: list[str], update: api.ListUpdate) -> list[str]:
    """`ListUpdate`: `set`/`clear` replace the list, `add`/`remove` edit it; never both at once."""
    replaces = bool(update.set) or update.clear
    if replaces and (update.add or update.remove):
        raise TwirpError("invalid_argument", "set/clear and add/remove cannot be used together")
    if replaces:
        return list(update.set)
    kept = [item for item in current if item not in update.remove]
    return kept + [item for item in dict.fromkeys(update.add) if item not in kept]


def _check_trunk_conflicts(trunks: Iterable[api.SIPInboundTrunkInfo]) -> None:
    """`sip.ValidateTrunks`: two trunks may not answer the same called number for the same callers."""
    seen: dict[tuple[str, str], api.SIPInboundTrunkInfo] = {}
    for trunk in trunks:
        numbers = "[" + " ".join(_go_quote(n) for n in trunk.numbers) + "]" if trunk.numbers else "<any>"
        for called in trunk.numbers or [""]:
            for caller in trunk.allowed_numbers or [""]:
                other = seen.get((called, _normalize_number(caller)))
                if other is not None:
                    ids = f"{_go_quote(_printed_id(trunk.sip_trunk_id))} and {_go_quote(other.sip_trunk_id)}"
                    detail = f"and AllowedNumber {_go_quote(caller)}" if caller else "without AllowedNumbers set"
                    raise TwirpError(
                        "invalid_argument",
                        f"Conflicting inbound SIP Trunks: {ids}, using the same number(s) {numbers} {detail}",
                    )
                seen[(called, _normalize_number(caller))] = trunk


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
                        raise TwirpError(
                            "invalid_argument",
                            "Dispatch rule for the same trunk, inbound number, number, and PIN combination "
                            f"already exists in dispatch rule {_go_quote(_printed_id(other.sip_dispatch_rule_id))} "
                            f"{_go_quote(other.name or '<blank name>')}",
                        )
                    seen[key] = rule
