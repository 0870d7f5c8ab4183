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
- Agent dispatch (`AgentDispatchService`), egress, ingress, outbound trunks, participant and
  room-metadata methods: `bad_route`. The `agents` of a CreateRoom request are ignored.
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

    def to_json(self) -> dict[str, Any]:
        def dump(messages: Iterable[Message]) -> list[dict[str, Any]]:
            return [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in messages]

        return {
            "version": STATE_VERSION,
            "rooms": dump(self.rooms.values()),
            "trunks": dump(self.trunks.values()),
            "rules": dump(self.rules.values()),
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
        return state


def create_app(api_key: str, api_secret: str, state_path: Path | None) -> Starlette:
    """The LiveKit stand-in as an ASGI app; `state_path` (optional) persists its state across restarts."""
    standin = _LiveKitStandIn(api_key, api_secret, state_path)
    routes = [*control_routes(standin.faults), Route("/twirp/{method:path}", standin.handle, methods=["POST"])]
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
        return room

    def list_rooms(self, req: api.ListRoomsRequest) -> api.ListRoomsResponse:
        rooms = [room for name, room in self.state.rooms.items() if not req.names or name in req.names]
        return api.ListRoomsResponse(rooms=rooms)

    def delete_room(self, req: api.DeleteRoomRequest) -> api.DeleteRoomResponse:
        if self.state.rooms.pop(req.room, None) is None:
            raise TwirpError("not_found", "room not found")
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
