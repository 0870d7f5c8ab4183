"""The new-tenant form's state (issue 15, item 10): each of the 31 by its name in Hindi and Tamil, and
a slip such as "Tamilnadu" answered with the state it is most likely for, in the reader's language."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mla_core.core.languages import STATES_AND_UTS
from mla_core.tenants.request import TenantRequest, nearest_state
from mla_core.web.forms import field_errors
from mla_core.web.i18n import WORDS


def test_each_state_has_its_name_in_hindi_and_tamil_under_its_key() -> None:
    assert len(STATES_AND_UTS) == 31
    for state in STATES_AND_UTS:
        english, hindi, tamil = WORDS["st_" + "_".join(state.casefold().split())]
        assert english == state and hindi != state and tamil != state


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Tamilnadu", "Tamil Nadu"), ("Kerela", "Kerala"), ("Pondicherry", "Puducherry"), ("TN", None), ("Texas", None)],
)
def test_a_slip_is_matched_to_the_state_it_is_most_likely_for(typed: str, meant: str | None) -> None:
    assert nearest_state(typed) == meant


def _refusal(state: str) -> ValidationError:
    body = {
        "mla_name": "K. Selvi",
        "constituency": "Mylapore",
        "state": state,
        "languages": ["ta"],
        "phone_numbers": ["+914440001234"],
        "admin_email": "office@selvi.example.in",
    }
    with pytest.raises(ValidationError) as refused:
        TenantRequest.model_validate(body)
    return refused.value


def test_tamilnadu_is_refused_with_a_suggestion_in_each_language_and_texas_without_one() -> None:
    refused = _refusal("Tamilnadu")
    assert field_errors(refused, "en")["state"].endswith("did you mean Tamil Nadu?")
    assert field_errors(refused, "hi")["state"].endswith("क्या आपका मतलब Tamil Nadu है?")
    assert field_errors(refused, "ta")["state"].endswith("நீங்கள் குறிப்பிட்டது Tamil Nadu ஆ?")
    assert "did you mean" not in field_errors(_refusal("Texas"), "en")["state"]
