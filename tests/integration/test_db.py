"""Both ways into Postgres (threads and the event loop) answer alike: rows as dicts, one transaction,
and a database that cannot be reached is a `TransientError` at once, then fails fast for a while."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import pytest
import pytest_asyncio

from mla_core import db
from mla_core.core.errors import TransientError
from mla_core.db import UNREACHABLE_BACKOFF_S, Database, close_async_pools


@pytest_asyncio.fixture(autouse=True, loop_scope="function")
async def _close_pools() -> AsyncIterator[None]:
    """The pools these tests open belong to the test's event loop: closed before it is."""
    yield
    await close_async_pools()
    assert not [key for key in db._async_pools if key[1] is asyncio.get_running_loop()]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_event_loop_way_reads_rows_as_dicts_in_one_transaction(stack: Any) -> None:
    database = Database(stack.env["DATABASE_URL"])
    async with database.read() as conn:
        first = await (await conn.execute("SELECT txid_current() AS tx, 'வணக்கம்' AS word")).fetchone()
        second = await (await conn.execute("SELECT txid_current() AS tx")).fetchone()
    assert first is not None and second is not None
    assert first["word"] == "வணக்கம்" and first["tx"] == second["tx"]


async def test_an_unreachable_database_is_transient_and_then_fails_fast() -> None:
    database = Database(f"postgresql://nobody@127.0.0.1:{closed_port()}/none?connect_timeout=1")
    with pytest.raises(TransientError):
        async with database.read():
            pass
    started = time.monotonic()
    with pytest.raises(TransientError, match="moments ago"):
        async with database.read():
            pass
    with pytest.raises(TransientError, match="moments ago"), database.transaction():
        pass
    assert time.monotonic() - started < UNREACHABLE_BACKOFF_S / 3  # no second wait for a timeout


def _restart(stack: Any) -> None:
    """Postgres stopped and started again on its data and port, the pools left as they are (the stack's
    own `restart_postgres` also makes every event loop open a new pool, which would hide a dead one)."""
    from local_stack.postgres import start_postgres

    stack.postgres.stop()
    stack.postgres = start_postgres(stack.postgres.data_dir, port=stack.postgres.port)


def test_after_postgres_restarts_a_pool_of_dead_connections_serves_the_next_caller(
    stack: Any, postgres_down: None
) -> None:
    """A restart (a failover, maintenance) kills every connection a pool holds; the first caller after it
    finds one dead and the pool replaces them all, instead of each caller finding them one by one
    (psycopg_pool gives up after the third dead one within a caller's timeout: a PoolTimeout)."""
    stack.restart_postgres()
    database = Database(f"{stack.env['DATABASE_URL']}?application_name=restart-sync", max_size=8)
    with ExitStack() as held:  # eight connections in the pool at once
        for _ in range(8):
            held.enter_context(database.transaction()).execute("SELECT 1")
    _restart(stack)

    with database.transaction() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}


async def test_after_postgres_restarts_the_event_loops_pool_serves_the_next_caller(
    stack: Any, postgres_down: None
) -> None:
    stack.restart_postgres()
    database = Database(f"{stack.env['DATABASE_URL']}?application_name=restart-async", max_size=8)
    async with AsyncExitStack() as held:
        for _ in range(8):
            await (await held.enter_async_context(database.read())).execute("SELECT 1")
    await asyncio.to_thread(_restart, stack)

    async with database.read() as conn:
        assert await (await conn.execute("SELECT 1 AS one")).fetchone() == {"one": 1}
