"""Agent fixtures: real tenants provisioned through the API, and calls run in text mode against them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_support import CallFactory

from agent_pool.call import CallRun, text_call
from agent_pool.settings import get_worker_settings
from agent_pool.testing import DeferredStep, LlmStep, ScriptedLLM
from agent_pool.testing_audio import espeak_available
from mla_core.adapters import Services, get_services
from support import Api, tenant_body, unique_number


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set the worker's settings' environment (`AGENT_…`) for one test: they are read once, then cached."""
    get_worker_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_worker_settings.cache_clear()


@pytest.fixture(scope="session")
def tamil_tenant(api: Api, admin_token: str) -> dict[str, Any]:
    return api.create_tenant(admin_token, tenant_body(languages=["ta", "hi", "en"], mla_name="K. Selvi"))


@pytest.fixture(scope="session")
def hindi_tenant(api: Api, admin_token: str) -> dict[str, Any]:
    body = tenant_body(
        languages=["hi", "en"], mla_name="Ravi Kumar", constituency="Lucknow Central", state="Uttar Pradesh"
    )
    return api.create_tenant(admin_token, body)


@pytest.fixture(scope="session")
def speech() -> None:
    """espeak-ng, which the calls heard as audio speak with: skipped without it, failed in CI."""
    if not espeak_available():
        message = "audio tests need espeak-ng: run `make speech` (as root), or `apt-get install espeak-ng`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def services(stack: Any) -> Services:
    return get_services()


@pytest.fixture
def caller() -> str:
    return unique_number()


@pytest.fixture
def phone_call(services: Services) -> CallFactory:
    """`async with phone_call(tenant, caller, [steps…]) as (run, llm)`: a call to the tenant's first number
    (`room_name=`: LiveKit's name for its room, e.g. a SIP call's `mla-{id}-call_<caller>_<random>`)."""

    @contextlib.asynccontextmanager
    async def call(
        tenant: dict[str, Any] | None,
        caller_number: str | None,
        steps: list[LlmStep | DeferredStep],
        *,
        dialed_number: str | None = None,
        job_metadata: str = "",
        room_name: str | None = None,
    ) -> AsyncIterator[tuple[CallRun, ScriptedLLM]]:
        llm = ScriptedLLM(steps)
        dialed = dialed_number or (tenant["phone_numbers"][0] if tenant else unique_number())
        async with text_call(
            services,
            llm,
            dialed_number=dialed,
            caller_number=caller_number,
            job_metadata=job_metadata,
            room_name=room_name,
        ) as run:
            yield run, llm

    return call


@pytest.fixture(scope="module")
def env_file(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make dev` writes to .local/dev.env, for this stack (the simulator's `--env`)."""
    path = tmp_path_factory.mktemp("simulate") / "dev.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in sorted(stack.env.items())))
    return path
