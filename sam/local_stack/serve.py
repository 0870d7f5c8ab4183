"""Serving and steering the local protocol stand-ins.

The stand-ins (`livekit_standin`, `supabase_auth_standin`, `upstash_proxy`) are plain ASGI apps.
This module holds what they share:

- `serve_in_thread` runs one under uvicorn in a daemon thread, so a test or `make dev` gets a real
  HTTP endpoint that the vendors' own SDKs can call, without a subprocess to manage.
- `Faults` and `control_routes` are the test-only control plane every stand-in mounts under
  `/_standin/`: `POST /_standin/faults` with `{"method", "status", "times"=1, "message"?}` queues
  failures for a named operation (a Twirp method, a GoTrue route, a Redis command), `DELETE`
  clears them; `GET /_standin/health` answers 200. Each stand-in decides what
  a queued failure looks like on its own wire.
- `read_state` / `write_state` keep a stand-in's state in one JSON file, replaced atomically, so a
  restarted stand-in carries on where the previous one stopped.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

__all__ = [
    "Fault",
    "Faults",
    "ServedApp",
    "control_routes",
    "read_state",
    "serve_in_thread",
    "write_state",
]

log = logging.getLogger(__name__)

_READY_POLL_SECONDS = 0.005


@dataclass
class ServedApp:
    """An ASGI app listening on loopback TCP in a daemon thread. `stop()` it when done."""

    host: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to shut down (open connections get a second to finish) and join the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        log.info("standin.stopped", extra={"url": self.url})

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, ready_timeout: float = 10.0) -> ServedApp:
    """Serve `app` with uvicorn in a daemon thread and return once it accepts connections.

    `port=0` picks a free port. The socket is bound here, before the thread starts, so the port is
    known at once and cannot be taken by someone else between a probe and uvicorn's own bind.
    """
    # proto=IPPROTO_TCP matters: asyncio only turns Nagle off (TCP_NODELAY) on sockets that say so,
    # and with Nagle on every response with a body waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="auto",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"standin-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"stand-in on {host}:{bound_port} did not start within {ready_timeout} s")
        time.sleep(_READY_POLL_SECONDS)
    served = ServedApp(host=host, port=bound_port, _server=server, _thread=thread)
    log.info("standin.started", extra={"url": served.url})
    return served


class Fault(BaseModel):
    """One queued failure: the next `times` calls of `method` answer `status` and change nothing.

    `method` names the operation in the stand-in's own vocabulary (`livekit.SIP/CreateSIPDispatchRule`,
    `POST /auth/v1/admin/users`, `SET`); `"*"` matches every operation.
    """

    method: str = Field(min_length=1)
    status: int = Field(ge=400, le=599)
    times: int = Field(default=1, ge=1)
    message: str | None = None


class Faults:
    """The queue of pending failures of one stand-in.

    Every access happens on the stand-in's event loop (control calls arrive over HTTP like the
    others), so no lock is needed.
    """

    def __init__(self, *, case_sensitive: bool = True) -> None:
        self._pending: list[Fault] = []
        self._case_sensitive = case_sensitive

    def add(self, fault: Fault) -> None:
        self._pending.append(fault.model_copy())

    def clear(self) -> None:
        self._pending.clear()

    def take(self, methods: str | Iterable[str]) -> Fault | None:
        """Consume one use of the first fault matching any of `methods`; None when none matches."""
        names = [methods] if isinstance(methods, str) else list(methods)
        for fault in self._pending:
            if any(self._matches(fault.method, name) for name in names):
                fault.times -= 1
                if fault.times == 0:
                    self._pending.remove(fault)
                return fault.model_copy()
        return None

    def _matches(self, pattern: str, method: str) -> bool:
        if pattern == "*":
            return True
        if self._case_sensitive:
            return pattern == method
        return pattern.casefold() == method.casefold()


def control_routes(faults: Faults) -> list[Route]:
    """The `/_standin/*` routes: fault injection and a health check."""

    async def add_fault(request: Request) -> Response:
        try:
            fault = Fault.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": "invalid fault", "detail": exc.errors(include_url=False)}, 422)
        faults.add(fault)
        log.info("standin.fault_added", extra={"operation": fault.method, "status": fault.status, "times": fault.times})
        return JSONResponse(fault.model_dump(), status_code=201)

    async def clear_faults(_: Request) -> Response:
        faults.clear()
        return Response(status_code=204)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return [
        Route("/_standin/faults", add_fault, methods=["POST"]),
        Route("/_standin/faults", clear_faults, methods=["DELETE"]),
        Route("/_standin/health", health, methods=["GET"]),
    ]


def read_state(path: Path | None) -> Any | None:
    """The JSON document at `path`, or None when there is no path or no file yet."""
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_state(path: Path | None, document: Any) -> None:
    """Replace the JSON document at `path` atomically (a crash leaves the old or the new file)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            json.dump(document, tmp, indent=1, sort_keys=True)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
