"""What `sync_routes` changes so that LiveKit and Redis equal Postgres, planned without either."""

from __future__ import annotations

from factories import office_config

from mla_core.agents.config import AgentConfig
from mla_core.agents.sync import Cached, RouteChange, plan_cache, plan_rule

TENANT = "abcde12345"
MAIN = office_config(phone_numbers=["+914440001234"])
HELPLINE = MAIN.model_copy(
    update={"agent_id": f"{TENANT}-a1b2c3", "name": "Helpline", "phone_numbers": ["+918000000001"]}
)


def in_sync(*agents: AgentConfig) -> Cached:
    """Redis as it is when it holds exactly these agents of the office."""
    return Cached(
        configs={agent.agent_id: agent.model_dump_json() for agent in agents},
        owners={number: TENANT for agent in agents for number in agent.phone_numbers},
        routes={number: agent for agent in agents for number in agent.phone_numbers},
    )


def test_a_rule_with_the_offices_numbers_in_any_order_needs_nothing() -> None:
    assert plan_rule(TENANT, ["+911", "+912"], ["+912", "+911"]) == []


def test_a_missing_rule_is_created_and_a_stale_one_updated() -> None:
    assert plan_rule(TENANT, ["+911"], None) == [RouteChange(TENANT, "livekit", "create_rule", f"tenant-{TENANT}")]
    assert plan_rule(TENANT, ["+911"], ["+911", "+919"])[0].action == "update_rule"


def test_redis_holding_exactly_the_offices_agents_needs_nothing() -> None:
    assert plan_cache(TENANT, [MAIN, HELPLINE], [], in_sync(MAIN, HELPLINE)) == []


def test_an_older_cached_config_is_written_again_and_its_new_number_routed() -> None:
    saved = HELPLINE.model_copy(update={"version": 2, "phone_numbers": ["+918000000002"]})

    changes = plan_cache(TENANT, [MAIN, saved], [], in_sync(MAIN, HELPLINE))

    assert [(c.action, c.subject) for c in changes] == [
        ("write_config", HELPLINE.agent_id),
        ("route_number", "+918000000002"),
        ("release_number", "+918000000001"),
    ]


def test_a_removed_agent_is_forgotten_and_its_number_released() -> None:
    changes = plan_cache(TENANT, [MAIN], [HELPLINE.agent_id], in_sync(MAIN, HELPLINE))

    assert [(c.action, c.subject) for c in changes] == [
        ("forget_agent", HELPLINE.agent_id),
        ("release_number", "+918000000001"),
    ]


def test_a_number_another_office_now_has_is_left_to_it_unless_our_route_still_leads_there() -> None:
    seen = in_sync(MAIN, HELPLINE)
    theirs = Cached(seen.configs, {**seen.owners, "+918000000001": "zzzzz99999"}, seen.routes)
    moved_on = Cached(seen.configs, theirs.owners, {**seen.routes, "+918000000001": None})
    helpline_gone = [HELPLINE.agent_id]

    assert [c.action for c in plan_cache(TENANT, [MAIN], [], theirs)] == ["release_number"]
    assert plan_cache(TENANT, [MAIN], [], moved_on) == []
    assert [c.action for c in plan_cache(TENANT, [MAIN], helpline_gone, moved_on)] == ["forget_agent"]


def test_a_number_whose_key_names_another_office_or_no_route_is_routed_again() -> None:
    seen = in_sync(MAIN)
    for broken in (
        Cached(seen.configs, {"+914440001234": None}, seen.routes),
        Cached(seen.configs, seen.owners, {"+914440001234": HELPLINE}),
        Cached({MAIN.agent_id: "not json"}, seen.owners, seen.routes),
    ):
        assert plan_cache(TENANT, [MAIN], [], broken)


def test_a_change_masks_its_number_in_logs() -> None:
    change = RouteChange(TENANT, "redis", "release_number", "+918000000001")
    assert change.log_fields()["subject"] == "+91******0001"
