"""The local servers are owned: a crashed owner's servers are stopped by the next start, a live
owner's are left alone, a recycled pid is never signalled, and a crash's leftovers never block a start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from local_stack import daemons
from local_stack.postgres import start_postgres

OWNER = "from local_stack.redis_server import start_redis; import sys; print(start_redis().pid, flush=True); sys.stdin.read()"


@pytest.fixture
def owner() -> Iterator[tuple[subprocess.Popen[str], psutil.Process]]:
    """Another process that started a Redis and waits (it stops it when its stdin closes)."""
    process = subprocess.Popen([sys.executable, "-c", OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    server = psutil.Process(int(process.stdout.readline()))
    try:
        yield process, server
    finally:
        process.kill()
        process.wait()
        daemons.stop_processes([server], [(signal.SIGKILL, 5)])


def test_the_server_of_an_owner_killed_with_sigkill_is_stopped_by_the_next_start(
    owner: tuple[subprocess.Popen[str], psutil.Process],
) -> None:
    process, server = owner
    process.kill()
    process.wait()
    assert server.is_running()  # the owner's atexit never ran

    stopped = daemons.stop_orphans()

    assert server.pid in [record.pid for record in stopped]
    assert not server.is_running() or server.status() == psutil.STATUS_ZOMBIE


def test_the_server_of_a_living_owner_is_left_alone(owner: tuple[subprocess.Popen[str], psutil.Process]) -> None:
    process, server = owner

    stopped = daemons.stop_orphans()

    assert server.pid not in [record.pid for record in stopped]
    assert server.status() != psutil.STATUS_ZOMBIE
    assert process.stdin is not None
    process.stdin.close()  # the owner stops its server itself
    assert process.wait(timeout=30) == 0
    assert not server.is_running() or server.status() == psutil.STATUS_ZOMBIE


def test_a_record_whose_pid_was_recycled_is_forgotten_without_a_signal() -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        process = psutil.Process(bystander.pid)
        daemons.register("redis", process, signal.SIGKILL)
        record = daemons.REGISTRY / f"{bystander.pid}.json"
        stale = daemons.DaemonRecord.model_validate_json(record.read_text())
        # The record of an earlier process that had this pid, left by an earlier owner that had ours.
        earlier = {"started_at": stale.started_at - 100, "owner_started_at": stale.owner_started_at - 100}
        recycled = stale.model_copy(update=earlier)
        record.write_text(recycled.model_dump_json())

        stopped = daemons.stop_orphans()

        assert stopped == []
        assert bystander.poll() is None
        assert not record.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_postgres_starts_on_a_crashed_directory_whose_lock_names_a_live_postgres(tmp_path: Path) -> None:
    """After `kill -9` of a server and its children, and its pid taken by another server of the same
    user (pids are recycled fast), Postgres alone would refuse: "lock file already exists"."""
    crashed = start_postgres(tmp_path / "crashed")
    # Durable commits (the local server's default leaves the last ~0.6 s to the WAL writer).
    with psycopg.connect(crashed.url, autocommit=True, options="-c synchronous_commit=on") as conn:
        conn.execute("create table kept (note text)")
        conn.execute("insert into kept values ('before the crash')")
    os.killpg(crashed.pid, signal.SIGKILL)  # the postmaster and every child: its own session
    crashed.stop()  # only reaps it and forgets it
    other = start_postgres(tmp_path / "other")
    try:
        lock = tmp_path / "crashed" / "postmaster.pid"
        lock.write_text("\n".join([str(other.pid), *lock.read_text().splitlines()[1:]]) + "\n")

        again = start_postgres(tmp_path / "crashed", port=crashed.port)

        try:
            with psycopg.connect(again.url) as conn:
                assert conn.execute("select note from kept").fetchall() == [("before the crash",)]
            assert other.is_running()
        finally:
            again.stop()
    finally:
        other.stop()
