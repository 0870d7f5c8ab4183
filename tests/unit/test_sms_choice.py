"""Which SMS a constituent gets, in which language and with which words: decided without sending."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from factories import NOW, complaint, office_config

from mla_core.agents.config import AgentConfig, Category
from mla_core.complaints import sms
from mla_core.complaints.models import Complaint

IDS = {
    "complaint_registered.ta": "1107000000000000001",
    "complaint_registered.en": "1107000000000000003",
    "complaint_resolved.ta": "1107000000000000002",
}


def office(**sms_settings: object) -> AgentConfig:
    config = office_config()
    return config.model_copy(update={"sms": config.sms.model_copy(update=sms_settings)})


TAMIL_WATER_4217 = (
    "எம்எல்ஏ அலுவலகம், Mylapore: உங்கள் குடிநீர் புகார் பதிவு செய்யப்பட்டது. புகார் எண் 4217."
    " விவரம் அறிய, 044 4000 1234 எண்ணை அழைத்து புகார் எண்ணைச் சொல்லுங்கள்."
)
ENGLISH_WATER_4217 = (
    "MLA office, Mylapore: your complaint about Water supply is registered. Reference 4217."
    " To ask about it, call 044 4000 1234 and say this reference."
)


def logged(**overrides: object) -> Complaint:
    values: dict[str, object] = {
        "tenant_id": "abcde12345",
        "reference": 4217,
        "idempotency_key": "call-1",
        "category": "water",
        "description": "No water for three days",
        "location": "Ward 12",
        "caller_number": "+919876543210",
        "language": "ta",
        "sla_due_at": NOW + timedelta(days=7),
        "created_at": NOW,
    }
    return Complaint.model_validate(values | overrides)


def test_the_confirmation_is_in_the_callers_language_with_the_category_named_in_it() -> None:
    message = sms.confirmation(office(), logged(), IDS)

    assert message == sms.Sms(
        reference=4217,
        to="+919876543210",
        purpose="complaint_registered",
        language="ta",
        body=TAMIL_WATER_4217,
        template_id="1107000000000000001",
    )


def test_a_language_the_template_lacks_falls_back_to_english() -> None:
    message = sms.confirmation(office(), logged(language="bn"), IDS)

    assert message is not None and message.language == "en" and message.template_id == "1107000000000000003"
    assert message.body == ENGLISH_WATER_4217


def test_a_category_without_a_name_in_the_language_is_written_as_its_code() -> None:
    water = office().categories[0].model_copy(update={"names": {"en": "Water supply"}})
    config = office().model_copy(update={"categories": [water]})
    untranslated = sms.confirmation(config, logged())
    assert untranslated is not None and "உங்கள் water புகார் " in untranslated.body
    unknown = sms.confirmation(office(), logged(category="lifts", language="en"))
    assert unknown is not None and "your complaint about lifts is registered" in unknown.body


def test_each_template_variable_is_cut_to_the_dlt_limit_of_30_characters() -> None:
    assert sms.DLT_VARIABLE_LIMIT == 30
    template = sms.Template("test", "en", "A {a} B {b}")
    assert template.render({"a": "x" * 45, "b": "short"}) == f"A {'x' * 30} B short"
    name = "Chepauk-Thiruvallikeni-Triplicane East"
    message = sms.confirmation(office().model_copy(update={"constituency": name}), logged(language="en"))
    assert message is not None and message.body.startswith(f"MLA office, {name[:30]}: your complaint")
    assert len(name[:30]) == 30 and name[:31] not in message.body


def test_without_the_callers_number_there_is_no_sms() -> None:
    assert sms.confirmation(office(), logged(caller_number=None)) is None
    assert sms.status_update(office(), complaint(caller_number=None), "resolved") is None


@pytest.mark.parametrize(
    ("status", "sends"),
    [("assigned", True), ("resolved", True), ("transferred", True), ("acknowledged", False), ("closed", False)],
)
def test_a_status_change_sends_an_sms_only_for_the_statuses_the_office_tells(status: str, sends: bool) -> None:
    message = sms.status_update(office(), complaint(language="en", reference=4217), status)

    assert (message is not None) == sends
    if message is not None:
        assert message.purpose == f"complaint_{status}" and message.to == "+919876543210"
        assert message.body.startswith("MLA office, Mylapore: your complaint 4217 (Water supply) ")


def test_the_office_chooses_which_statuses_are_told() -> None:
    quiet = office(notify_on=["resolved"])
    assert sms.status_update(quiet, complaint(), "assigned") is None
    resolved = sms.status_update(quiet, complaint(), "resolved", IDS)
    assert resolved is not None and resolved.template_id == "1107000000000000002" and resolved.language == "ta"


def test_a_status_the_platform_has_no_template_for_sends_nothing() -> None:
    config = office(notify_on=["assigned", "acknowledged"])
    message = sms.status_update(config, complaint(language="hi"), "assigned")
    assert message is not None and message.language == "hi" and "सौंपी गई" in message.body
    assert sms.status_update(config, complaint(), "acknowledged") is None


# What the variables may carry, whatever config they come from ------------------------------------


def with_category(code: str, **names: str) -> AgentConfig:
    """A config as one stored before the bounds might be: any text in a category's names."""
    stored = Category(code=code, names=names, sla_days=7)
    return office().model_copy(update={"categories": [stored]})


@pytest.mark.parametrize(
    "name",
    [
        "குடிநீர் http://evil.example/pay",
        "Call 98765 43210 now",
        "x" * 200_000 + ".com",
        "Water 💧 supply",
        "Вода",
        "Water www.evil.in",
    ],
)
def test_a_stored_category_name_an_sms_may_not_carry_is_replaced_by_the_default_name(name: str) -> None:
    message = sms.confirmation(with_category("water", ta=name, en=name), logged())
    assert message is not None
    assert message.body == TAMIL_WATER_4217
    other = sms.confirmation(with_category("lifts", en=name), logged(category="lifts", language="en"))
    assert other is not None and "your complaint about Other is registered" in other.body


def test_a_category_name_within_the_rule_is_sent_as_it_is_cut_to_the_dlt_limit() -> None:
    message = sms.confirmation(with_category("water", en="Ration / PDS (ward 12)"), logged(language="en"))
    assert message is not None and "your complaint about Ration / PDS (ward 12) is registered" in message.body
    long = sms.confirmation(with_category("water", en="Water " * 40_000), logged(language="en"))
    assert long is not None and f"your complaint about {('Water ' * 5).strip()} is registered" in long.body


def test_a_constituency_in_an_sms_keeps_no_link_no_phone_number_and_no_symbol() -> None:
    def office_of(constituency: str) -> str:
        message = sms.confirmation(office().model_copy(update={"constituency": constituency}), logged(language="en"))
        assert message is not None
        return message.body.removeprefix("MLA office, ").partition(": your complaint")[0]

    assert office_of("Dr.Radhakrishnan Nagar") == "Dr Radhakrishnan Nagar"
    assert office_of("https://evil.example") == "https //evil example"  # words, not a link
    assert office_of("Mylapore 9876543210") == "Mylapore"
    assert office_of("Mylapore ✅ <b>") == "Mylapore b"


def test_every_variable_of_every_template_is_within_the_rule() -> None:
    hostile = with_category("water", en="see evil.com", ta="see evil.com", hi="see evil.com")
    hostile = hostile.model_copy(update={"constituency": "Mylapore http://x.in 9876543210", "sms": office().sms})
    for status in ("assigned", "resolved", "transferred"):
        for language in ("en", "ta", "hi"):
            message = sms.status_update(hostile, complaint(language=language, reference=4217), status)
            assert message is not None
            assert "evil" not in message.body and "98765" not in message.body and "4217" in message.body
            assert not re.search(r"\w[.:@]\w", message.body)  # nothing a phone would make a link of
    for language in ("en", "ta", "hi"):
        message = sms.confirmation(hostile, logged(language=language))
        assert message is not None and "evil" not in message.body and not re.search(r"\w[.:@]\w", message.body)


def test_a_hidden_callers_sms_goes_to_the_callback_number_unless_the_calls_sms_are_used_up() -> None:
    hidden = logged(caller_number=None, callback_number="+919000000001")
    message = sms.confirmation(office(), hidden)
    assert message is not None and message.to == "+919000000001"
    assert (
        sms.confirmation(office(), logged(caller_number=None, callback_number="+919000000001", sms_confirmation=False))
        is None
    )
    update = sms.status_update(office(), complaint(caller_number=None, callback_number="+919000000001"), "resolved")
    assert update is not None and update.to == "+919000000001"
