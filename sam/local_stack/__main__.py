"""`make dev`: start the whole platform locally and keep it running until Ctrl+C.

After a crash (`kill -9`, a closed terminal) the next run starts as usual: the servers the crashed
run left (Postgres, Redis) are stopped or adopted (see `local_stack.daemons`), and the addresses of
the crashed run are not taken for overrides when the shell sourced its `dev.env`.

The terminal shows this program's own lines and, last, the banner with the addresses and the super
admin's sign-in. The services' JSON log lines go to `.local/logs/services.log` (the previous run's
to `services.previous.log`), unless `MLA_DEV_LOGS=1` (`make dev LOGS=1`) asks for them on the terminal.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TextIO

from local_stack.overrides import OVERRIDABLE
from local_stack.stack import LocalStack

#: What ends `make dev` in order: Ctrl+C, `kill`, and the hang-up of a terminal that closes.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_LOCK_FILE = "make-dev.lock"
LOG_FILE = Path("logs") / "services.log"
PREVIOUS_LOG_FILE = Path("logs") / "services.previous.log"


def main() -> int:
    root = Path(os.environ.get("MLA_LOCAL_DIR", ".local")).resolve()
    port = int(os.environ.get("PORT", "8000"))
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    _hold_lock(root)
    terminal = sys.stdout

    def say(text: str) -> None:
        print(text, file=terminal, flush=True)

    say(f"Starting MLA Voice AI locally (data in {root}) …")
    ignored = forget_own_addresses(root)
    if ignored:
        say(f"  (not overrides: {', '.join(ignored)} come from this stack's own {root / 'dev.env'})")
    # Until it runs, a stop signal interrupts the start, which stops what it started so far.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    log_path = None if logs_on_terminal(os.environ) else open_log(root)
    with contextlib.ExitStack() as output:
        if log_path is not None:
            # Left open to the end: a service thread may still log while the process exits.
            logs = log_path.open("a", encoding="utf-8", buffering=1)
            output.enter_context(_services_write_to(logs))
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
        try:
            stack = LocalStack(root=root, port=port).start()
        except KeyboardInterrupt:
            say("\nStopped while starting.")
            return 130
        except BaseException:
            if log_path is not None:
                say(f"make dev failed while starting; the services' logs are in {log_path}")
            raise
        say(banner(stack.env, root, time.perf_counter() - started, log_path))
        stopping = threading.Event()
        # Handled ourselves: a shell that starts us in the background leaves SIGINT ignored.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, lambda *_: stopping.set())
        while not stopping.wait(1):
            pass
        say("\nStopping …")
        stack.stop()
    return 0


def banner(env: dict[str, str], root: Path, seconds: float, log_path: Path | None) -> str:
    """What `make dev` prints last, once everything answers: where each site is and how to sign in."""
    api = env["API_URL"]
    logs = f"{log_path}   (make dev LOGS=1 shows them here instead)" if log_path else "on this terminal"
    return (
        f"\nReady in {seconds:.1f} s.\n"
        f"  Admin panel    {api}/admin/panel   (super admins: create and watch tenants)\n"
        f"  Dashboard      {api}/app   (an office's complaints, team and agents)\n"
        f"  API docs       {api}/docs   and, for super admins, {api}/admin/docs\n"
        f"  Health         {api}/health\n"
        f"  Live updates   {env.get('LIVE_UPDATES_URL', 'off')}   (the pages' WebSocket)\n"
        f"  Outbox         {api}/local/outbox   (emails and SMS that would have been sent;"
        " `make invitation EMAIL=…` prints an invitation's link)\n"
        f"  Client config  {root / 'dev.env'}\n"
        f"  Logs           {logs}\n"
        f"  Super admin    {env['SUPERADMIN_EMAIL']}\n"
        f"       password  {env['SUPERADMIN_PASSWORD']}\n\n"
        "Press Ctrl+C to stop."
    )


def logs_on_terminal(environ: Mapping[str, str]) -> bool:
    """`MLA_DEV_LOGS=1` (`make dev LOGS=1`): the services' logs on the terminal, not in a file."""
    return environ.get("MLA_DEV_LOGS", "").strip().lower() in {"1", "true", "yes", "on"}


def open_log(root: Path) -> Path:
    """This run's log file, the previous run's kept beside it (what a crash left is still there)."""
    path = root / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        path.replace(root / PREVIOUS_LOG_FILE)
    path.write_text("", encoding="utf-8")
    return path


@contextlib.contextmanager
def _services_write_to(logs: TextIO) -> Iterator[None]:
    """The functions' Powertools loggers write to the `sys.stdout` of when they are built (during the
    start), the rest to `sys.stderr`: both point at the log file while the stack runs."""
    with contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs):
        yield


def forget_own_addresses(root: Path) -> list[str]:
    """Drop from the environment the overrides whose value is the one the last run wrote to `dev.env`.

    The README has clients `source` that file; a `make dev` started again from such a shell would
    otherwise take its own previous addresses for real services and start no stand-in for them
    (then fail with "Connection refused" from a stand-in that died with the previous run).
    """
    try:
        previous = dict(line.split("=", 1) for line in (root / "dev.env").read_text().splitlines() if "=" in line)
    except FileNotFoundError:
        return []
    own = [name for name in OVERRIDABLE if name in previous and os.environ.get(name) == previous[name]]
    for name in own:
        del os.environ[name]
    return own


def _hold_lock(root: Path) -> None:
    """An exclusive lock on `root` for the rest of this process's life (the kernel drops it however we
    end), so a second `make dev` on the same data cannot take the first one's servers away."""
    fd = os.open(root / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)  # left open on purpose
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode().strip() or "?"
        raise SystemExit(f"make dev is already running on {root} (pid {holder}): stop that one first.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())


def _interrupt(signum: int, frame: FrameType | None) -> None:
    for sig in _STOP_SIGNALS:  # a second signal must not cut the clean-up short
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
