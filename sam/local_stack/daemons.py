"""The local Postgres and Redis servers as processes we own, even after the process that started them died.

Both servers run in sessions of their own (a Ctrl+C meant for `make dev` must not kill them before it
has stopped in order), so a `kill -9` of `make dev`'s process group, or of a pytest run, leaves them
running. Two mechanisms find them again:

- **A registry of owners** in a fixed place (`REGISTRY`, one JSON record per server: its pid, start
  time and binary, and the pid and start time of the process that started it). Every start of a
  server first stops the servers whose owner is gone (`stop_orphans`), whatever directory they serve:
  a crashed test run's servers in a temporary directory, or a crashed `make dev`'s.
- **The data directory itself**: both servers run with their data directory as working directory
  (Postgres changes to it, Redis's `--dir` does), so `processes_in` finds what still serves a
  directory even when no record survived (a server from before the registry, a record deleted).

A process is only ever signalled after its identity is checked (start time for a record, binary and
working directory for a directory), so a recycled pid is never killed.

Why not a parent-death signal (`PR_SET_PDEATHSIG`): it fires when the *thread* that started the child
ends, it is not inherited by Postgres's own children or kept by a daemonising server, and it cannot
help with what a `kill -9` of everything leaves behind (stale pid files); the registry covers those.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import psutil
from pydantic import BaseModel, ValidationError

__all__ = [
    "REGISTRY",
    "DaemonRecord",
    "processes_in",
    "register",
    "stop_orphans",
    "stop_processes",
    "unregister",
]

log = logging.getLogger(__name__)

#: Per user, in the temporary directory: it lives exactly as long as the processes it lists (until reboot).
REGISTRY = Path(tempfile.gettempdir()) / f"mla-local-stack-{os.geteuid()}"
#: What stops an orphan: its own clean-stop signal, then SIGKILL.
_ORPHAN_GRACE_SECONDS = 15.0
_KILL_GRACE_SECONDS = 5.0
#: psutil derives start times from clock ticks; two reads of one process agree far closer than this.
_SAME_START_SECONDS = 0.05
_POLL_SECONDS = 0.01


class DaemonRecord(BaseModel):
    """One server in the registry (stored as JSON; `version` changes when the shape does)."""

    version: Literal[1] = 1
    kind: str
    pid: int
    started_at: float
    exe: str
    stop_signal: int
    owner_pid: int
    owner_started_at: float

    def process(self) -> psutil.Process | None:
        """The server, if it still runs as the same process (not a recycled pid)."""
        try:
            return _same_process(self.pid, self.started_at)
        except psutil.AccessDenied:
            return None  # another user's process: not one of ours

    def owner_alive(self) -> bool:
        try:
            return _same_process(self.owner_pid, self.owner_started_at) is not None
        except psutil.AccessDenied:
            return True  # not ours to judge


def register(kind: str, process: psutil.Process, stop_signal: signal.Signals) -> None:
    """Record that this process owns `process` (replacing an earlier owner's record of it)."""
    me = psutil.Process()
    try:
        record = DaemonRecord(
            kind=kind,
            pid=process.pid,
            started_at=process.create_time(),
            exe=process.exe(),
            stop_signal=int(stop_signal),
            owner_pid=me.pid,
            owner_started_at=me.create_time(),
        )
    except psutil.NoSuchProcess:
        return  # already ended: nothing to answer for
    # Written aside and renamed, so a concurrent `stop_orphans` never reads half a record.
    draft = _registry_dir() / f".{record.pid}.tmp"
    draft.write_text(record.model_dump_json(), encoding="utf-8")
    draft.replace(_record_path(record.pid))


def unregister(process: psutil.Process) -> None:
    """Forget `process` (stopped by its owner); a record of another process with a recycled pid stays."""
    path = _record_path(process.pid)
    try:
        record = DaemonRecord.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError):
        return
    # psutil keeps the start time it read when the handle was made, so this works after the exit.
    if abs(record.started_at - process.create_time()) <= _SAME_START_SECONDS:
        path.unlink(missing_ok=True)


def stop_orphans() -> list[DaemonRecord]:
    """Stop every registered server whose owner is gone; forget records of servers already gone."""
    orphans: dict[int, list[tuple[Path, DaemonRecord, psutil.Process]]] = {}
    for path, record in _records():
        process = record.process()
        if process is None:
            path.unlink(missing_ok=True)
        elif not record.owner_alive():
            orphans.setdefault(record.stop_signal, []).append((path, record, process))
    stopped: list[DaemonRecord] = []
    for stop_signal, found in orphans.items():  # all of one kind at once: each waits only for the slowest
        left = ", ".join(f"{record.kind} pid {record.pid}" for _, record, _ in found)
        log.warning(
            "stopping servers a crashed run left behind: %s", left, extra={"pids": [r.pid for _, r, _ in found]}
        )
        steps = ((signal.Signals(stop_signal), _ORPHAN_GRACE_SECONDS), (signal.SIGKILL, _KILL_GRACE_SECONDS))
        stop_processes([process for _, _, process in found], steps)
        for path, record, _ in found:
            path.unlink(missing_ok=True)
            stopped.append(record)
    return stopped


def stop_processes(processes: Sequence[psutil.Process], steps: Sequence[tuple[signal.Signals, float]]) -> bool:
    """Send each signal in turn to those still running and wait its grace period; True once all ended.

    Our own children are reaped by the wait. Signals go through psutil, which refuses a recycled pid.
    """
    running = list(processes)
    for sig, grace in steps:
        for process in running:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(sig)
        deadline = time.monotonic() + grace
        while running := [process for process in running if not _ended(process)]:
            if time.monotonic() > deadline:
                break
            time.sleep(_POLL_SECONDS)
        if not running:
            return True
        log.warning("daemon.stop_escalated", extra={"pids": [p.pid for p in running], "signal": sig.name})
    return False


def _ended(process: psutil.Process) -> bool:
    """Exited (and reaped, when it is our child). A zombie counts as ended: it holds no port, file or
    memory any more, and the init of some containers reaps orphans only after a second or two."""
    try:
        process.wait(0)
        return True
    except psutil.TimeoutExpired:
        pass
    except psutil.NoSuchProcess:
        return True
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def processes_in(exe: Path, directory: Path) -> list[psutil.Process]:
    """Live processes of binary `exe` whose working directory is `directory` (what serves it)."""
    wanted_exe = os.path.realpath(exe)
    wanted_dir = str(directory.resolve())
    found = []
    for process in psutil.process_iter(["exe"]):
        if process.info["exe"] != wanted_exe:
            continue
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            if process.status() != psutil.STATUS_ZOMBIE and process.cwd() == wanted_dir:
                found.append(process)
    return found


def _same_process(pid: int, started_at: float) -> psutil.Process | None:
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - started_at) > _SAME_START_SECONDS:
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    return process


def _records() -> Iterator[tuple[Path, DaemonRecord]]:
    for path in sorted(_registry_dir().glob("*.json")):
        try:
            yield path, DaemonRecord.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            continue  # another run removed it meanwhile
        except ValidationError:
            log.warning("daemon.unreadable_record", extra={"path": str(path)})
            path.unlink(missing_ok=True)


def _record_path(pid: int) -> Path:
    return _registry_dir() / f"{pid}.json"


def _registry_dir() -> Path:
    REGISTRY.mkdir(mode=0o700, exist_ok=True)
    if REGISTRY.is_symlink() or REGISTRY.stat().st_uid != os.geteuid():
        raise RuntimeError(f"{REGISTRY} is not a directory of this user's; remove it")
    return REGISTRY
