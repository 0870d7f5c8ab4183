"""Postgres access: one connection pool per process, transactions as context managers, and the
versioned migrations (`migrate`, the `.sql` files under `migrations/`).

Works against Supabase's pooler in transaction mode (port 6543) as well as a direct connection:
no prepared statements, and no session-level state (`SET LOCAL` only, inside transactions).

`transaction()` is for code in threads (FastAPI's `def` routes, Lambda steps, the agent's tools).
`read()` is the same for the few hot read routes that run on the event loop (`async def`): it saves
them the hop to a worker thread, which cost more than the query on a page of complaints. Its pool
belongs to the running event loop (one per Lambda container, reused across invocations).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, NoReturn

import psycopg
import psycopg_pool
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from mla_core.core.errors import TransientError

log = logging.getLogger(__name__)
ACQUIRE_TIMEOUT_S = 4.0
UNREACHABLE_BACKOFF_S = 3.0
Conn = psycopg.Connection[DictRow]  # every connection returns rows as dicts
AsyncConn = psycopg.AsyncConnection[DictRow]
# A caller is waiting on some of these queries: fail fast, so the fallback can act.
_CONNECTION = {"prepare_threshold": None, "row_factory": dict_row, "autocommit": True, "connect_timeout": 3}

_pools: dict[str, ConnectionPool[Conn]] = {}
_async_pools: dict[tuple[str, asyncio.AbstractEventLoop], AsyncConnectionPool[AsyncConn]] = {}
_lock = threading.Lock()


def get_pool(database_url: str, *, max_size: int = 10) -> ConnectionPool[Conn]:
    """The process-wide pool for `database_url`, opened on first use."""
    with _lock:
        pool = _pools.get(database_url)
        if pool is None:
            pool = _pools[database_url] = _new_pool(database_url, max_size)
            pool.open(wait=False)
        return pool


async def get_async_pool(database_url: str, *, max_size: int = 10) -> AsyncConnectionPool[AsyncConn]:
    """The running event loop's pool for `database_url`, opened on first use."""
    loop = asyncio.get_running_loop()
    with _lock:
        for key in [key for key in _async_pools if key[1].is_closed()]:
            del _async_pools[key]  # its loop is gone, and its connections with it
        pool = _async_pools.get((database_url, loop))
        opening = pool is None
        if pool is None:
            pool = _async_pools[(database_url, loop)] = _new_async_pool(database_url, max_size)
    if opening:
        await pool.open(wait=False)
    return pool


# A connection that fails its check as it leaves the pool was dropped by the server (a restart, a
# failover), and so, most likely, were all the others the pool holds: they are replaced at once
# (`drain`). Otherwise each caller finds them dead one by one, and psycopg_pool gives up on the third
# within a caller's timeout: a PoolTimeout, then the fail-fast window, with the database back all along.


def _new_pool(database_url: str, max_size: int) -> ConnectionPool[Conn]:
    def check_or_drain(conn: Conn) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool.drain()
            raise

    pool: ConnectionPool[Conn] = ConnectionPool(
        database_url,
        connection_class=Conn,
        min_size=1,
        max_size=max_size,
        kwargs=dict(_CONNECTION),
        check=check_or_drain,
        open=False,
        name="mla",
    )
    return pool


def _new_async_pool(database_url: str, max_size: int) -> AsyncConnectionPool[AsyncConn]:
    async def check_or_drain(conn: AsyncConn) -> None:
        try:
            await AsyncConnectionPool.check_connection(conn)
        except Exception:
            await pool.drain()
            raise

    pool: AsyncConnectionPool[AsyncConn] = AsyncConnectionPool(
        database_url,
        connection_class=AsyncConn,
        min_size=1,
        max_size=max_size,
        kwargs=dict(_CONNECTION),
        check=check_or_drain,
        open=False,
        name="mla-async",
    )
    return pool


async def close_async_pools() -> None:
    """Close the running event loop's pools (before the loop itself closes)."""
    loop = asyncio.get_running_loop()
    with _lock:
        mine = [key for key in _async_pools if key[1] is loop]
        pools = [_async_pools.pop(key) for key in mine]
    for pool in pools:
        await pool.close(timeout=1)


def forget_async_pools() -> None:
    """Let every event loop open a new async pool on its next use (after the database restarted: a
    pool whose connections all died may be waiting out its reconnection back-off for many seconds)."""
    with _lock:
        _async_pools.clear()


def close_pools() -> None:
    with _lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def now(conn: Conn) -> datetime:
    """The transaction's timestamp, as Postgres sees it."""
    row = conn.execute("SELECT now() AS now").fetchone()
    assert row is not None
    moment: datetime = row["now"]
    return moment


class Database:
    """A handle on one database; what repositories and domain code receive."""

    def __init__(self, url: str, *, max_size: int = 10) -> None:
        self.url = url
        self._max_size = max_size
        # After a failure to reach the database, fail at once for a few seconds instead of making
        # every caller wait out a timeout (a caller on the phone hears that wait as dead air).
        self._unreachable_until = 0.0

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """A connection inside one transaction; commits on success, rolls back on error.

        A lost or refused connection becomes `TransientError`, which callers may retry.
        """
        self._check_reachable()
        pool = get_pool(self.url, max_size=self._max_size)
        try:
            with pool.connection(timeout=ACQUIRE_TIMEOUT_S) as conn, conn.transaction():
                yield conn
        except _FAILURES as exc:
            self._failed(exc, pool.get_stats)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConn]:
        """`transaction()` for an `async def` route: the same errors, without leaving the event loop."""
        self._check_reachable()
        pool = await get_async_pool(self.url, max_size=self._max_size)
        try:
            async with pool.connection(timeout=ACQUIRE_TIMEOUT_S) as conn, conn.transaction():
                yield conn
        except _FAILURES as exc:
            self._failed(exc, pool.get_stats)

    def _check_reachable(self) -> None:
        if time.monotonic() < self._unreachable_until:
            raise TransientError("database unavailable (it failed moments ago)")

    def _failed(self, exc: Any, pool_stats: Callable[[], dict[str, int]]) -> NoReturn:
        if isinstance(exc, psycopg.errors.DeadlockDetected):
            raise TransientError("database deadlock, retry") from exc
        if isinstance(exc, psycopg_pool.PoolTimeout):  # no connection within the wait: say how busy the pool was
            log.warning("database pool timed out", extra={"pool": pool_stats()})
        self._unreachable_until = time.monotonic() + UNREACHABLE_BACKOFF_S
        raise TransientError(f"database unavailable ({type(exc).__name__})") from exc  # its text names the host


_FAILURES = (psycopg.OperationalError, psycopg.errors.AdminShutdown, TimeoutError, psycopg.errors.DeadlockDetected)
