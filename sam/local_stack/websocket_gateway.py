"""API Gateway's WebSocket API, for local mode: real WebSocket connections turned into the Lambda
events API Gateway sends, and the Management API that posts to them.

- `ws://127.0.0.1:<port>/<stage>`: each connect, message and close becomes the event of the
  `$connect`, `$default` or `$disconnect` route (`requestContext.routeKey`, `eventType`,
  `connectionId`; headers and the query string on connect) given to `invoke` (the template's
  function, through moto's Lambda as the queues and schedules reach theirs). The upgrade is refused,
  with `$connect`'s status, unless `$connect` answers 2xx.
- `POST / GET / DELETE /[<stage>/]@connections/{id}`: post to a connection, describe it, close it (its
  `$disconnect` follows), answering an unknown id with **410 GoneException** as AWS does, so boto3's
  `apigatewaymanagementapi` client works unchanged with `endpoint_url` set. (moto's model stores posts
  to any id and never answers Gone.)
- Connections close after `max_age_s` (2 h) and after `idle_s` (10 min) without a message from the
  client, as API Gateway closes them; posts do not count as activity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

log = logging.getLogger("local_stack.websocket_gateway")

MAX_POST_BYTES = 128 * 1024  # API Gateway's message limit
_ID_LETTERS = string.ascii_letters + string.digits
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class _Socket:
    websocket: WebSocket
    connected_at: datetime
    source_ip: str
    user_agent: str
    last_active: float = field(default_factory=time.monotonic)
    last_active_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)


class WebSocketGateway:
    def __init__(self, invoke: Invoke, *, stage: str = "live", max_age_s: float = 7200, idle_s: float = 600):
        self._invoke, self.stage = invoke, stage
        self._max_age_s, self._idle_s = max_age_s, idle_s
        self._sockets: dict[str, _Socket] = {}

    def app(self) -> Starlette:
        management = [
            Route(path, self.manage, methods=["POST", "GET", "DELETE"])
            for path in ("/@connections/{connection_id}", f"/{self.stage}/@connections/{{connection_id}}")
        ]
        return Starlette(routes=[WebSocketRoute(f"/{self.stage}", self.socket), *management])

    # WebSocket side -----------------------------------------------------------------------------

    async def socket(self, websocket: WebSocket) -> None:
        connection_id = "".join(secrets.choice(_ID_LETTERS) for _ in range(15)) + "="  # like API Gateway's
        answer = await self._route(websocket, "$connect", "CONNECT", connection_id, connect=True)
        status = int(answer.get("statusCode", 500))
        if not 200 <= status < 300:
            await websocket.send_denial_response(Response(answer.get("body") or "", status_code=status))
            return
        await websocket.accept()
        client = websocket.client.host if websocket.client else ""
        socket = self._sockets[connection_id] = _Socket(
            websocket, datetime.now(UTC), client, websocket.headers.get("user-agent", "")
        )
        watchdog = asyncio.create_task(self._close_when_due(connection_id, socket))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                socket.last_active, socket.last_active_at = time.monotonic(), datetime.now(UTC)
                body = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
                await self._route(websocket, "$default", "MESSAGE", connection_id, body=body)
        except WebSocketDisconnect:
            pass
        finally:
            watchdog.cancel()
            self._sockets.pop(connection_id, None)
            await self._route(websocket, "$disconnect", "DISCONNECT", connection_id)

    async def _close_when_due(self, connection_id: str, socket: _Socket) -> None:
        opened = time.monotonic()
        while True:
            now = time.monotonic()
            due = min(opened + self._max_age_s, socket.last_active + self._idle_s)
            if now >= due:
                await self._close(socket, 1001, "Going away")
                return
            await asyncio.sleep(min(due - now, 1.0))

    async def _route(
        self, websocket: WebSocket, route: str, event_type: str, connection_id: str, *, connect: bool = False,
        body: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        context = {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": connection_id,
            "stage": self.stage,
            "apiId": "local",
            "domainName": websocket.headers.get("host", ""),
            "requestId": secrets.token_hex(8),
            "requestTimeEpoch": int(time.time() * 1000),
            "connectedAt": int(time.time() * 1000),
            "identity": {"sourceIp": websocket.client.host if websocket.client else ""},
        }
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if connect:
            event["headers"] = dict(websocket.headers)
            event["multiValueHeaders"] = {k: websocket.headers.getlist(k) for k in websocket.headers}
            event["queryStringParameters"] = dict(websocket.query_params) or None
        if body is not None:
            event["body"] = body
        try:
            return await asyncio.to_thread(self._invoke, event)
        except Exception:  # a function that failed: API Gateway answers 500 for it
            log.exception("websocket route failed", extra={"route": route})
            return {"statusCode": 500}

    # Management API -----------------------------------------------------------------------------

    async def manage(self, request: Request) -> Response:
        socket = self._sockets.get(request.path_params["connection_id"])
        if socket is None:
            return JSONResponse({"message": None}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})
        if request.method == "GET":
            return JSONResponse(
                {  # the wire's names (botocore maps them to ConnectedAt, Identity.SourceIp…)
                    "connectedAt": socket.connected_at.isoformat(),
                    "identity": {"sourceIp": socket.source_ip, "userAgent": socket.user_agent},
                    "lastActiveAt": socket.last_active_at.isoformat(),
                }
            )
        if request.method == "DELETE":
            await self._close(socket, 1000, "")
            return Response(status_code=204)
        data = await request.body()
        if len(data) > MAX_POST_BYTES:
            return JSONResponse(
                {"message": "Message too long"},
                status_code=413,
                headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
            )
        try:
            async with socket.sending:
                await socket.websocket.send_text(data.decode("utf-8", "replace"))
        except (RuntimeError, OSError):  # closed between the lookup and the send
            return JSONResponse({"message": None}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})
        return Response(status_code=200)

    async def _close(self, socket: _Socket, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            async with socket.sending:
                await socket.websocket.close(code, reason)

    @property
    def connection_ids(self) -> list[str]:
        return sorted(self._sockets)
