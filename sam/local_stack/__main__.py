"""`make dev`: start the whole platform locally and keep it running until Ctrl+C.

After a crash (`kill -9`, a closed terminal) the next run starts as usual: the servers the crashed
run left (Postgres, Redis) are stopped or adopted (see `local_stack.daemons`), and the addresses of
the crashed run are not taken for overrides when the shell sourced its `dev.env`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from local_stack.overrides import OVERRIDABLE
from local_stack.stack import LocalStack

#: What ends `make dev` in order: Ctrl+C, `kill`, and the hang-up of a terminal that closes.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_LOCK_FILE = "make-dev.lock"


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    root = Path(os.environ.get("MLA_LOCAL_DIR", ".local")).resolve()
    port = int(os.environ.get("PORT", "8000"))
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    _hold_lock(root)
    print(f"Starting MLA Voice AI locally (data in {root}) …", flush=True)
    ignored = forget_own_addresses(root)
    if ignored:
        print(f"  (not overrides: {', '.join(ignored)} come from this stack's own {root / 'dev.env'})", flush=True)
    # Until it runs, a stop signal interrupts the start, which stops what it started so far.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    try:
        stack = LocalStack(root=root, port=port).start()
    except KeyboardInterrupt:
        print("\nStopped while starting.", flush=True)
        return 130
    env = stack.env
    print(
        f"\nReady in {time.perf_counter() - started:.1f} s.\n"
        f"  API            {env['API_URL']}   (docs: {env['API_URL']}/docs and {env['API_URL']}/admin/docs)\n"
        f"  Health         {env['API_URL']}/health\n"
        f"  Outbox         {env['API_URL']}/local/outbox   (emails and SMS that would have been sent)\n"
        f"  Super admin    {env['SUPERADMIN_EMAIL']} / {env['SUPERADMIN_PASSWORD']}\n"
        f"  Client config  {root / 'dev.env'}\n\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )
    stopping = threading.Event()
    # Handled ourselves: a shell that starts us in the background leaves SIGINT ignored.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.wait(1):
        pass
    print("\nStopping …", flush=True)
    stack.stop()
    return 0


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
