"""Shared fixtures: the local stack (real Postgres, Redis, moto, protocol stand-ins) on free ports."""

from __future__ import annotations

import asyncio
import asyncio.runners
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.overrides import OVERRIDABLE
from support import Api

# Tests always run against their own local stack, whatever the developer's shell points at: nothing
# the stack would take from the environment, nor what would send the settings to AWS.
for _name in (*OVERRIDABLE, "APP_SECRET_ID", "AWS_PROFILE"):
    os.environ.pop(_name, None)
# Every test signs in from 127.0.0.1, so the sign-in limits (10 failures per address in 15 minutes)
# would soon refuse the whole suite's logins; the tests of the limits set them back to 10
# (tests/integration/test_signin_limits.py, test_invitations.py), from addresses of their own.
os.environ["SIGNIN_FAILURE_LIMIT"] = "1000"


def _cancel_all_tasks_within_a_bound(loop: asyncio.AbstractEventLoop) -> None:
    """`asyncio.runners._cancel_all_tasks`, which pytest-asyncio runs as each test's event loop closes,
    waiting at most `TASKS_CANCEL_WITHIN_S` for the loop's tasks to end: a task left by a test that
    ignores its cancellation is reported and abandoned, instead of hanging the run for ever (seen once
    in CI on two workers, in a worker's teardown after an agent test)."""
    to_cancel = asyncio.all_tasks(loop)
    if not to_cancel:
        return
    for task in to_cancel:
        task.cancel()
    done, pending = loop.run_until_complete(asyncio.wait(to_cancel, timeout=TASKS_CANCEL_WITHIN_S))
    for task in pending:
        warnings.warn(f"a task ignored its cancellation as its event loop closed: {task!r}", stacklevel=1)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {"message": "unhandled exception as the loop closed", "exception": task.exception(), "task": task}
            )


TASKS_CANCEL_WITHIN_S = 10.0
asyncio.runners._cancel_all_tasks = _cancel_all_tasks_within_a_bound  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from local_stack.stack import LocalStack

    root: Path = tmp_path_factory.mktemp("local")
    # An interrupted earlier run's Postgres and Redis (in its own temporary directory) are stopped by
    # this start: the servers are registered with this process as owner (`local_stack.daemons`).
    local = LocalStack(root=root, ephemeral_ports=True, fast_retries=True, schedules=False).start()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def api(stack: object) -> Iterator[Api]:
    with Api.for_stack(stack) as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(api: Api, stack: object) -> str:
    env = stack.env  # type: ignore[attr-defined]
    return api.login(env["SUPERADMIN_EMAIL"], env["SUPERADMIN_PASSWORD"])["access_token"]


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "stack" in request.fixturenames:
        stack = request.getfixturevalue("stack")
        if stack.moto is not None:
            stack.moto.runner.clear_faults()


@pytest.fixture
def postgres_down(stack: Any) -> Iterator[None]:
    """Postgres really stopped for the test (the pool closed first), and started again after it."""
    from mla_core.db import close_pools

    close_pools()
    stack.postgres.stop()
    try:
        yield
    finally:
        if not stack.postgres.is_running():
            stack.restart_postgres()
        _wait_until_the_database_answers()


def _wait_until_the_database_answers(timeout: float = 15) -> None:
    """The next test starts once our own code reaches Postgres again (past its fail-fast window)."""
    import time

    from mla_core.adapters import get_services
    from mla_core.core.errors import TransientError

    deadline = time.monotonic() + timeout
    while True:
        try:
            with get_services().db.transaction() as conn:
                conn.execute("SELECT 1")
            return
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def redis_down(stack: Any) -> Iterator[Callable[[], None]]:
    """The stack's redis-server really stopped for the test (the Upstash proxy in front of it stays
    up and answers 502, as a REST endpoint whose Redis is gone does), and started again after it on
    the same port and data; calling the fixture's value brings it back sooner, mid-test."""

    def back() -> None:
        if not stack.redis.is_running():
            stack.restart_redis()
        _wait_until_redis_answers()

    stack.redis.stop()
    try:
        yield back
    finally:
        back()


def _wait_until_redis_answers(timeout: float = 15) -> None:
    """The next test starts once our own code reaches Redis again (past its fail-fast window)."""
    import time

    from mla_core.adapters import get_services
    from mla_core.core.errors import TransientError

    deadline = time.monotonic() + timeout
    while True:
        try:
            get_services().agent_configs.tenant_for_number("+910000000000")
            return
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
