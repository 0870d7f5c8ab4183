"""Upstash's Redis REST protocol in front of a real Redis, for the `upstash-redis` client.

The production code talks to Upstash over HTTP (`upstash_redis.Redis`).
Locally and in tests this app receives the same requests and forwards each command over RESP to a
real `redis-server` (see `redis_server`), so commands behave exactly as Redis makes them behave:

- `POST /` with a JSON array (`["SET", "k", "v", "EX", 100]`) answers `{"result": ...}`, or HTTP 400
  `{"error": "<Redis's error text, verbatim>"}`.
- `POST /pipeline` and `POST /multi-exec` take `[[...], [...]]` and answer a list of
  `{"result": ...}` / `{"error": ...}` items, one per command (HTTP 200 even when items failed: the
  client raises for the batch). When Redis aborts a transaction before running it (EXECABORT, e.g.
  an unknown command), the refused command carries its own error and every other command the
  `EXECABORT ...` text.
- `Authorization: Bearer <token>` is required (401 `{"error": "Unauthorized"}`).
- With `Upstash-Encoding: base64` (the client's default) every string in a result, nested arrays
  included, is base64 except the literal `OK`; integers and null pass through. Redis's simple and
  bulk strings are not told apart, which is invisible to the client (it decodes `OK` either way).
- Commands that change the state of a connection (SELECT, MULTI, SUBSCRIBE, ...) are refused: over
  pooled connections they would leak into other requests, and Upstash's REST API has no sessions.

- Lua scripts (`EVAL`, and `EVALSHA` of a script sent before): Upstash takes a first line of flags,
  `#!lua flags=allow-key-locking` (as `upstash-ratelimit` sends), which the local Redis 6.2 cannot
  compile; the proxy drops that line before forwarding, and runs an `EVALSHA` of the script as sent
  (its SHA-1 is of the text with that line) as the `EVAL` of the script it forwarded.

Faults (see `serve`) match the Redis command name, case-insensitively, or `"*"`; a request with a
matching command answers the fault's status and `{"error": ...}` without reaching Redis.

The product (`mla_core.adapters.upstash`) uses all three endpoints: single commands, a pipeline
(`HGET` + `GET`) and MULTI/EXEC (`SET`, `HSET`, `HDEL`, `DEL`, `INCR`); the sign-in limits
(`mla_core.adapters.ratelimit`) send `EVAL` and `GET`.

What it does not model: Upstash's limits (request and value size, commands per request, the
plan's daily command and bandwidth quotas, rate limiting, the max-connections error); the
`Upstash-Sync-Token` read-your-writes header (one Redis, so reads are always current);
`Upstash-Response-Format: resp2`; the GET/path form of commands (`/set/key/value`); Server-Sent
Events for SUBSCRIBE and `/monitor`; read-only tokens; eviction, global replicas and their lag.
When the local Redis is down the proxy answers 502 `{"error": ...}`: what an Upstash outage looks
like on the wire is not modelled.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local_stack.serve import Faults, control_routes

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_POOL_SIZE = 16
_POOL_WAIT_SECONDS = 10
_CONNECTION_STATE_COMMANDS = frozenset(
    {"SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"}
    | {"MONITOR", "QUIT", "RESET", "HELLO", "AUTH"}
)

Command = list[str | int | float]


@dataclass(frozen=True)
class _ErrorReply:
    """A Redis error reply, with its text exactly as the server sent it."""

    text: str


class _RequestError(Exception):
    """A request the proxy answers itself, with `status` and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


def create_app(redis_host: str, redis_port: int, token: str) -> Starlette:
    """The Upstash REST protocol as an ASGI app, forwarding to the Redis at `redis_host:redis_port`."""
    proxy = _UpstashProxy(redis_host, redis_port, token)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await proxy.aclose()

    routes = [
        *control_routes(proxy.faults),
        Route("/", proxy.command, methods=["POST"]),
        Route("/pipeline", proxy.pipeline, methods=["POST"]),
        Route("/multi-exec", proxy.multi_exec, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class _UpstashProxy:
    def __init__(self, redis_host: str, redis_port: int, token: str) -> None:
        self._host = redis_host
        self._port = redis_port
        self._token = token
        self._pool: aioredis.BlockingConnectionPool | None = None
        self.faults = Faults(case_sensitive=False)
        self._scripts: dict[str, str] = {}  # SHA-1 of a script as sent -> the script as forwarded

    async def command(self, request: Request) -> Response:
        try:
            commands = await self._accept(request, batch=False)
            (reply,) = await self._run(commands, transaction=False)
        except _RequestError as exc:
            return exc.response()
        if isinstance(reply, _ErrorReply):
            return JSONResponse({"error": reply.text}, status_code=400)
        return JSONResponse({"result": _encode(reply, _wants_base64(request))})

    async def pipeline(self, request: Request) -> Response:
        try:
            commands = await self._accept(request, batch=True)
            replies = await self._run(commands, transaction=False)
        except _RequestError as exc:
            return exc.response()
        return JSONResponse([_item(reply, _wants_base64(request)) for reply in replies])

    async def multi_exec(self, request: Request) -> Response:
        try:
            commands = await self._accept(request, batch=True)
            replies = await self._run(commands, transaction=True)
        except _RequestError as exc:
            return exc.response()
        return JSONResponse([_item(reply, _wants_base64(request)) for reply in replies])

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def _accept(self, request: Request, *, batch: bool) -> list[Command]:
        """Authenticate, parse and vet a request; apply a queued fault. Returns its commands."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self._token:
            raise _RequestError(401, "Unauthorized")
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise _RequestError(400, f"ERR failed to parse the request body as JSON: {exc}") from exc
        commands = body if batch else [body]
        if not isinstance(commands, list) or not commands:
            raise _RequestError(400, "ERR the request body must be a non-empty JSON array")
        parsed = [_command(item) for item in commands]
        names = [str(command[0]).upper() for command in parsed]
        fault = self.faults.take(names)
        if fault is not None:
            log.info("upstash_proxy.fault_injected", extra={"commands": names, "status": fault.status})
            raise _RequestError(fault.status, fault.message or "ERR injected fault")
        refused = sorted(set(names) & _CONNECTION_STATE_COMMANDS)
        if refused:
            raise _RequestError(400, f"ERR {refused[0]} is not supported over the REST API")
        return [self._as_redis_runs_it(command) for command in parsed]

    def _as_redis_runs_it(self, command: Command) -> Command:
        """A script without Upstash's flags line; an `EVALSHA` of a script sent with one, as its `EVAL`."""
        name = str(command[0]).upper()
        if name == "EVAL" and len(command) > 1 and isinstance(command[1], str):
            script = command[1]
            forwarded = _without_flags_line(script)
            if forwarded != script:
                self._scripts[hashlib.sha1(script.encode()).hexdigest()] = forwarded  # noqa: S324 - Redis's script id
            return [command[0], forwarded, *command[2:]]
        if name == "EVALSHA" and len(command) > 1 and str(command[1]).lower() in self._scripts:
            return ["EVAL", self._scripts[str(command[1]).lower()], *command[2:]]
        return command

    async def _run(self, commands: list[Command], *, transaction: bool) -> list[Any]:
        """Send the commands on one pooled connection and read one reply per command."""
        if self._pool is None:
            # Created on first use, on the serving event loop, which the connections are bound to.
            # RESP2, as Upstash answers: redis-py 8 would otherwise negotiate RESP3 (maps, doubles).
            self._pool = aioredis.BlockingConnectionPool(
                host=self._host,
                port=self._port,
                protocol=2,
                max_connections=_POOL_SIZE,
                timeout=_POOL_WAIT_SECONDS,
            )
        pool = self._pool
        try:
            connection = await pool.get_connection()
        except RedisError as exc:
            raise _RequestError(502, f"ERR the proxy cannot reach Redis: {exc}") from exc
        try:
            wrapped = [["MULTI"], *commands, ["EXEC"]] if transaction else commands
            await connection.send_packed_command(connection.pack_commands(wrapped))
            replies = [await _read(connection) for _ in wrapped]
        except RedisError as exc:
            await connection.disconnect()
            raise _RequestError(502, f"ERR the proxy lost its Redis connection: {exc}") from exc
        finally:
            await pool.release(connection)
        log.debug("upstash_proxy.forwarded", extra={"commands": len(commands), "transaction": transaction})
        if not transaction:
            return replies
        executed = replies[-1]
        if isinstance(executed, _ErrorReply):
            # EXECABORT: nothing ran. A command Redis refused to queue keeps its own error; the
            # others report the abort.
            queued = replies[1:-1]
            return [reply if isinstance(reply, _ErrorReply) else executed for reply in queued]
        return [_ErrorReply(_verbatim(r)) if isinstance(r, ResponseError) else r for r in executed]


async def _read(connection: aioredis.Connection) -> Any:
    try:
        return await connection.read_response()
    except ResponseError as exc:
        return _ErrorReply(_verbatim(exc))


def _verbatim(error: ResponseError) -> str:
    """Redis's error line as sent: redis-py strips known prefixes (`ERR `) into `status_code`."""
    message = str(error)
    return f"{error.status_code} {message}" if error.status_code else message


def _without_flags_line(script: str) -> str:
    """The script without a first line `#!lua ...` (Redis 7's shebang; Upstash's flags)."""
    if script.lstrip().startswith("#!"):
        return script.lstrip().partition("\n")[2]
    return script


def _command(item: Any) -> Command:
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        raise _RequestError(400, "ERR each command must be a non-empty JSON array starting with its name")
    return [
        arg if isinstance(arg, str | int | float) and not isinstance(arg, bool) else json.dumps(arg) for arg in item
    ]


def _wants_base64(request: Request) -> bool:
    return request.headers.get("upstash-encoding", "").lower() == "base64"


def _item(reply: Any, base64_encoded: bool) -> dict[str, Any]:
    if isinstance(reply, _ErrorReply):
        return {"error": reply.text}
    return {"result": _encode(reply, base64_encoded)}


def _encode(value: Any, base64_encoded: bool) -> Any:
    """A RESP2 reply as Upstash returns it: strings (base64 on request, except OK), ints, null, arrays."""
    if isinstance(value, bytes):
        if not base64_encoded:
            return value.decode("utf-8", errors="replace")
        return "OK" if value == b"OK" else base64.b64encode(value).decode("ascii")
    if isinstance(value, ResponseError):
        return _encode(_verbatim(value).encode(), base64_encoded)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_encode(element, base64_encoded) for element in value]
    return value
