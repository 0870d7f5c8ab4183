"""An office's agents and the numbers they answer, planned without Postgres."""

from __future__ import annotations

import pytest
from factories import office_config

from mla_core.agents.config import AgentConfig
from mla_core.agents.manage import office_numbers, plan_numbers
from mla_core.core.errors import ConflictError

MAIN = office_config(phone_numbers=["+914440001234", "+914440001235"])


def agent(agent_id: str, name: str, *numbers: str) -> AgentConfig:
    return MAIN.model_copy(update={"agent_id": agent_id, "name": name, "phone_numbers": list(numbers)})


HELPLINE = agent("abcde12345-a1b2c3", "Helpline", "+918000000001")
OFFICE = [MAIN, HELPLINE]


def test_a_new_agent_answers_after_the_office_main_agent_first() -> None:
    hindi = agent("abcde12345-d4e5f6", "Hindi line", "+918000000002", "+918000000003")

    planned = plan_numbers(OFFICE, hindi, taken_elsewhere=set())

    assert planned == [*MAIN.phone_numbers, "+918000000001", "+918000000002", "+918000000003"]


def test_a_changed_agent_keeps_its_place_and_may_keep_its_own_numbers() -> None:
    moved = HELPLINE.model_copy(update={"phone_numbers": ["+918000000009", "+918000000001"]})
    planned = plan_numbers(OFFICE, moved, taken_elsewhere=set())
    assert planned == [*MAIN.phone_numbers, "+918000000009", "+918000000001"]
    paused = MAIN.model_copy(update={"status": "paused"})
    assert plan_numbers(OFFICE, paused, taken_elsewhere=set()) == office_numbers(OFFICE)


def test_removing_an_agent_leaves_the_others_numbers_in_order() -> None:
    assert office_numbers([MAIN]) == ["+914440001234", "+914440001235"]


def test_a_name_another_agent_of_the_office_has_is_a_conflict_whatever_its_case() -> None:
    with pytest.raises(ConflictError) as taken:
        plan_numbers(OFFICE, agent("abcde12345-d4e5f6", "HELPLINE", "+918000000002"), taken_elsewhere=set())

    assert taken.value.message == "this office already has an agent named 'HELPLINE'"
    assert taken.value.details == [{"field": "name", "reason": "already_taken", "value": "HELPLINE"}]


def test_a_number_another_agent_of_the_office_answers_is_a_conflict_naming_that_agent() -> None:
    grab = MAIN.model_copy(update={"phone_numbers": ["+914440001234", "+918000000001"]})
    with pytest.raises(ConflictError) as taken:
        plan_numbers(OFFICE, grab, taken_elsewhere=set())

    assert taken.value.message == ("+918000000001 is answered by this office's agent 'Helpline'; remove it there first")
    assert taken.value.details == [
        {
            "field": "phone_numbers.1",
            "reason": "answered_by_another_agent",
            "value": "+918000000001",
            "agent_id": HELPLINE.agent_id,
        }
    ]


def test_a_number_another_office_has_is_a_conflict_at_its_position() -> None:
    new = agent("abcde12345-d4e5f6", "Hindi line", "+918000000002", "+918000000007")
    with pytest.raises(ConflictError) as taken:
        plan_numbers(OFFICE, new, taken_elsewhere={"+918000000007"})

    assert taken.value.message == "phone number +918000000007 already belongs to another tenant"
    assert taken.value.details == [{"field": "phone_numbers.1", "reason": "already_taken", "value": "+918000000007"}]


def test_the_first_number_in_conflict_is_the_one_reported() -> None:
    new = agent("abcde12345-d4e5f6", "Hindi line", "+918000000007", "+918000000001")
    with pytest.raises(ConflictError) as taken:
        plan_numbers(OFFICE, new, taken_elsewhere={"+918000000007"})
    assert taken.value.details[0]["field"] == "phone_numbers.0"
