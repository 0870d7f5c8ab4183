"""Postgres access: one connection pool per process, transactions as context managers.

Works against Supabase's pooler in transaction mode (port 6543) as well as a direct connection:
no prepared statements, and no session-level state (`SET LOCAL` only, inside transactions).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from mla_core.errors import TransientError

ACQUIRE_TIMEOUT_S = 4.0
UNREACHABLE_BACKOFF_S = 3.0
Conn = psycopg.Connection[DictRow]  # every connection returns rows as dicts

_pools: dict[str, ConnectionPool[Conn]] = {}
_lock = threading.Lock()


def get_pool(database_url: str, *, max_size: int = 10) -> ConnectionPool[Conn]:
    """The process-wide pool for `database_url`, opened on first use."""
    with _lock:
        pool = _pools.get(database_url)
        if pool is None:
            pool = ConnectionPool(
                database_url,
                connection_class=Conn,
                min_size=1,
                max_size=max_size,
                # A caller is waiting on some of these queries: fail fast, so the fallback can act.
                kwargs={"prepare_threshold": None, "row_factory": dict_row, "autocommit": True, "connect_timeout": 3},
                check=ConnectionPool.check_connection,
                open=False,
                name="mla",
            )
            pool.open(wait=False)
            _pools[database_url] = pool
        return pool


def close_pools() -> None:
    with _lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def now(conn: Conn) -> datetime:
    """The transaction's timestamp, as Postgres sees it."""
    row = conn.execute("SELECT now() AS now").fetchone()
    assert row is not None
    return row["now"]


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
        if time.monotonic() < self._unreachable_until:
            raise TransientError("database unavailable (it failed moments ago)")
        pool = get_pool(self.url, max_size=self._max_size)
        try:
            with pool.connection(timeout=ACQUIRE_TIMEOUT_S) as conn, conn.transaction():
                yield conn
        except (psycopg.OperationalError, psycopg.errors.AdminShutdown, TimeoutError) as exc:
            self._unreachable_until = time.monotonic() + UNREACHABLE_BACKOFF_S
            raise TransientError(f"database unavailable: {exc}") from exc
        except psycopg.errors.DeadlockDetected as exc:
            raise TransientError("database deadlock, retry") from exc
