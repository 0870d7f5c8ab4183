"""What a caller hears first: the apology's language on a number nobody owns (issue 14, item 5), and
the greeting with the names in the caller's script, the notice before one closing question (item 7)."""

from __future__ import annotations

from typing import Any

import pytest
from agent_support import CallFactory, agent_lines, complaint_logged_by
from psycopg.types.json import Jsonb

from agent_pool import phrases
from agent_pool.settings import get_worker_settings
from mla_core.adapters import Services
from mla_core.agents.config import RECORDING_NOTICE
from mla_core.agents.routing import load_agent_config
from support import Api, tenant_body, unique_number

TAMIL_WATER = {"category": "water", "description": "மூன்று நாளாக குடிநீர் வரவில்லை", "location": "வார்டு 12"}


async def test_a_chennai_number_nobody_owns_apologises_in_tamil_then_english(
    phone_call: CallFactory, caller: str
) -> None:
    async with phone_call(None, caller, [], dialed_number="+914428009999") as (run, llm):
        assert run.rejected
        [apology] = agent_lines(run)

    assert apology == phrases.rejection(("ta", "en"))
    assert apology.startswith("மன்னிக்கவும்") and apology.endswith("Please call again later.")
    assert llm.requests == []


async def test_a_delhi_landline_calling_a_number_without_a_known_code_hears_hindi_first(
    phone_call: CallFactory,
) -> None:
    async with phone_call(None, "+911123456789", [], dialed_number=unique_number()) as (run, _llm):
        assert agent_lines(run) == [phrases.rejection(("hi", "en"))]


async def test_a_call_that_tells_nothing_hears_the_platform_default_first(
    phone_call: CallFactory, caller: str, worker_env: pytest.MonkeyPatch
) -> None:
    worker_env.setenv("AGENT_APOLOGY_LANGUAGE", "ta")
    async with phone_call(None, caller, [], dialed_number=unique_number()) as (run, _llm):
        assert agent_lines(run) == [phrases.rejection(("ta", "en"))]

    worker_env.setenv("AGENT_APOLOGY_LANGUAGE", "en")
    get_worker_settings.cache_clear()
    async with phone_call(None, caller, [], dialed_number=unique_number()) as (run, _llm):
        assert agent_lines(run) == [phrases.rejection(("en",))]  # English once, not twice


def edit_config(services: Services, tenant: dict[str, Any], **update: Any) -> None:
    """Change the office's stored agent config, in Postgres and Redis, as a saved edit leaves it."""
    config = load_agent_config(services, tenant["tenant_id"])
    assert config is not None
    edited = config.model_copy(update=update)
    with services.db.transaction() as conn:
        conn.execute(
            "UPDATE platform.agent_configs SET config = %s WHERE agent_id = %s",
            (Jsonb(edited.model_dump(mode="json")), edited.agent_id),
        )
    services.agent_configs.put(edited)


@pytest.fixture
def named_tenant(api: Api, admin_token: str, services: Services) -> dict[str, Any]:
    """A Tamil office whose MLA and constituency have their Tamil spelling in the config."""
    tenant = api.create_tenant(
        admin_token, tenant_body(languages=["ta", "en"], mla_name="K. Selvi", constituency="Mylapore")
    )
    edit_config(services, tenant, mla_name_local={"ta": "கே. செல்வி"}, constituency_local={"ta": "மயிலாப்பூர்"})
    return tenant


async def test_a_tamil_greeting_names_the_mla_and_constituency_in_tamil_script_and_ends_with_one_question(
    named_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    async with phone_call(named_tenant, caller, []) as (run, _llm):
        opening, question = agent_lines(run)

    assert "கே. செல்வி" in opening and "மயிலாப்பூர்" in opening
    assert "Selvi" not in opening and "Mylapore" not in opening
    assert opening.endswith(RECORDING_NOTICE["ta"])  # the notice, then the closing question
    assert question == "உங்கள் புகார் என்ன?"


async def test_a_returning_caller_is_asked_about_their_complaint_instead_of_the_greetings_question(
    named_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    await complaint_logged_by(phone_call, named_tenant, caller, TAMIL_WATER)
    async with phone_call(named_tenant, caller, []) as (run, _llm):
        opening, summary = agent_lines(run)

    assert opening.endswith(RECORDING_NOTICE["ta"]) and "?" not in opening
    assert summary.count("?") == 1 and summary.endswith("?")  # one question ends the opening


async def test_a_paused_office_names_its_constituency_in_tamil_script(
    named_tenant: dict[str, Any], phone_call: CallFactory, caller: str, services: Services
) -> None:
    edit_config(services, named_tenant, status="paused")
    async with phone_call(named_tenant, caller, []) as (run, _llm):
        [paused] = agent_lines(run)
    assert paused == phrases.PAUSED["ta"].format(constituency="மயிலாப்பூர்")
