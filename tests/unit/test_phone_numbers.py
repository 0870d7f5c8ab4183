"""Phone numbers as people in India write them (issue 15, item 1): one parser, stored as E.164."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from mla_core.core import messages
from mla_core.core.errors import InvalidInputError
from mla_core.core.fields import PhoneNumber, indian_mobile, indian_number
from mla_core.privacy.requests import e164_of
from mla_core.web.forms import field_errors, split_numbers


class Person(BaseModel):
    phone: PhoneNumber


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("98400 12345", "+919840012345"),
        ("09840012345", "+919840012345"),
        ("+91 98765 43210", "+919876543210"),
        ("+91-98765-43210", "+919876543210"),
        ("0091 98400 12345", "+919840012345"),
        ("९८४०० १२३४५", "+919840012345"),
        ("௯௮௪௦௦ ௧௨௩௪௫", "+919840012345"),
        ("９８４００１２３４５", "+919840012345"),
        ("044-2345 6789", "+914423456789"),
        ("044 2345 6789", "+914423456789"),
        ("+91 44 2345 6789", "+914423456789"),
        ("1800 425 1234", "+9118004251234"),
        ("+914440001234", "+914440001234"),
    ],
)
def test_a_number_written_the_usual_indian_ways_is_stored_as_e164(typed: str, stored: str) -> None:
    assert indian_number(typed) == stored
    assert Person(phone=typed).phone == stored


@pytest.mark.parametrize(
    "typed",
    [
        "12345",  # too short
        "98400 1234",  # a digit short
        "98400 123456",  # a digit too many
        "50000 12345",  # a five-digit series that no mobile or STD code begins with
        "+1 415 555 2671",  # a foreign number, valid in its own country
        "+44 20 7946 0958",
        "98400 12345 ext 2",  # an extension is not a number we can dial
        "1800-FLOWERS",  # nor are letters
        "98765²3210",  # a superscript is no digit
        "",
    ],
)
def test_what_is_not_an_indian_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="must be an Indian phone number"):
        indian_number(typed)


def test_a_refusal_is_a_sentence_with_examples_in_each_language_never_the_pattern() -> None:
    with pytest.raises(ValidationError) as refused:
        Person(phone="50000 12345")
    english, hindi, tamil = (field_errors(refused.value, lang)["phone"] for lang in ("en", "hi", "ta"))
    assert english.startswith("Enter an Indian phone number") and "98400 12345" in english
    assert "भारतीय फ़ोन नंबर" in hindi and "044 2345 6789" in hindi
    assert "இந்திய தொலைபேசி எண்ணை" in tamil and "1800 425 1234" in tamil
    assert not any("pattern" in text or "^" in text or "50000" in text for text in (english, hindi, tamil))
    assert messages.REASONS["indian_phone"][0] == english


def test_only_a_mobile_is_a_mobile() -> None:
    assert indian_mobile("98400 12345") == "+919840012345"
    assert indian_mobile("044 2345 6789") is None  # a landline takes no SMS
    assert indian_mobile("1800 425 1234") is None
    assert indian_mobile("+1 415 555 2671") is None


def test_a_privacy_lookup_reads_a_number_as_the_forms_do_and_never_repeats_it() -> None:
    assert e164_of("044-2345 6789") == "+914423456789"
    assert e164_of("09840012345") == "+919840012345"
    with pytest.raises(InvalidInputError) as refused:
        e164_of("50000 12345")
    assert "50000" not in refused.value.message and refused.value.__cause__ is None
    assert refused.value.details == [{"field": "phone", "reason": "indian_phone"}]


def test_numbers_in_one_box_keep_their_own_spaces() -> None:
    assert split_numbers("+91 98765 43210") == ["+91 98765 43210"]
    assert split_numbers("98400 12345 044 2345 6789, 1800 425 1234") == [
        "98400 12345",
        "044 2345 6789",
        "1800 425 1234",
    ]
    assert split_numbers("+914440001234 +914440001235\n+914440001236") == [
        "+914440001234",
        "+914440001235",
        "+914440001236",
    ]
    assert split_numbers("044-4000") == ["044-4000"]  # left whole, for the model to refuse
