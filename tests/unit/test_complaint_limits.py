"""One set of limits for what a caller says, whether the agent or the staff write it down; and
the password rule the set-password page states."""

from __future__ import annotations

import pytest
from factories import office_config
from pydantic import ValidationError

from mla_core.complaints.intake import ComplaintDraft, check_draft
from mla_core.complaints.models import LIMITS, ManualComplaint
from mla_core.core.errors import InvalidInputError
from mla_core.identity.accounts import RegisterRequest

CONFIG = office_config()
GOOD = {"category": "water", "description": "No water for three days", "location": "Ward 12"}
SAYABLE = {
    "description": "I need a short description of the problem",
    "location": "I need the place: the street, ward or village",
    "caller_name": "that name is too long",
    "landmark": "that landmark is too long",
}
CASES = [(name, length) for name, (low, high) in LIMITS.items() for length in (low - 1, low, high, high + 1)]


def test_the_limits_are_the_agents() -> None:
    assert LIMITS == {"description": (5, 1000), "location": (2, 300), "caller_name": (1, 120), "landmark": (1, 200)}


@pytest.mark.parametrize(("name", "length"), CASES)
def test_the_agent_and_the_staff_form_accept_and_refuse_the_same_lengths(name: str, length: int) -> None:
    low, high = LIMITS[name]
    values = {**GOOD, name: "x" * length}
    fits = low <= length <= high

    try:
        check_draft(CONFIG, ComplaintDraft(**values))
        agent_took_it = True
    except InvalidInputError as refused:
        agent_took_it = False
        assert refused.message == SAYABLE[name]
        assert refused.details == [{"field": name, "reason": f"{low}-{high} characters"}]
    try:
        ManualComplaint(**values)
        staff_took_it = True
    except ValidationError as refused:
        staff_took_it = False
        assert [error["loc"] for error in refused.errors()] == [(name,)]

    assert agent_took_it == staff_took_it == fits


def test_words_without_a_letter_or_digit_are_not_a_description() -> None:
    with pytest.raises(InvalidInputError, match="short description"):
        check_draft(CONFIG, ComplaintDraft(**{**GOOD, "description": "?!?!?!"}))


@pytest.mark.parametrize(("password", "accepted"), [("nine char", False), ("ten chars!", True), ("x" * 72, True)])
def test_a_password_has_at_least_ten_characters(password: str, accepted: bool) -> None:
    def register() -> RegisterRequest:
        return RegisterRequest(token="invite-token-1", password=password)

    if accepted:
        assert register().password == password
    else:
        with pytest.raises(ValidationError):
            register()
