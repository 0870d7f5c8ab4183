"""The MLA's and constituency's names in a language's letters (issue 14, item 7): an initial's full
stop is theirs ("க. செல்வி"), a link's dot is not; the agent page's boxes, a blank one included."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mla_core.agents.manage import AgentUpdate
from mla_core.core.sms_text import sms_text_problem


@pytest.mark.parametrize("name", ["க. செல்வி", "K. Selvi", "डॉ. रमेश", "செல்வி க."])
def test_an_initials_full_stop_is_one_an_sms_may_carry(name: str) -> None:
    assert sms_text_problem(name) is None


@pytest.mark.parametrize("name", ["evil.com", "க.செல்வி.in", "a.b c", "..."])
def test_a_dot_that_could_make_a_link_is_not(name: str) -> None:
    assert sms_text_problem(name) is not None


def test_the_agent_pages_boxes_send_each_shown_language_a_blank_one_included() -> None:
    from local_stack.template import function

    function("DashboardFunction").import_module()
    from dashboard_pages import AgentForm

    form = AgentForm.model_validate(
        {"version": "3", "local_names": ["ta", "hi"], "mla_name_local_ta": "க. செல்வி", "constituency_local_hi": "मैलापुर"}
    )
    update = form.update()
    assert update.mla_name_local == {"ta": "க. செல்வி", "hi": ""}  # hi blank: the English spelling again
    assert update.constituency_local == {"ta": "", "hi": "मैलापुर"}
    assert AgentForm.model_validate({"version": "3"}).update().mla_name_local is None  # no boxes: kept


def test_one_sentence_for_a_name_that_cannot_go_in_an_sms() -> None:
    with pytest.raises(ValidationError) as refused:
        AgentUpdate.model_validate({"version": 1, "mla_name_local": {"ta": "https://x.example"}})
    assert [error["loc"] for error in refused.value.errors()] == [("mla_name_local", "ta")]
