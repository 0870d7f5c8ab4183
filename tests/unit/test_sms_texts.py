"""What the SMS say: one DLT template per message and language, read naturally, matched exactly."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from factories import NOW, complaint, office_config
from pydantic import ValidationError

from mla_core.agents.config import AgentConfig
from mla_core.complaints import sms
from mla_core.complaints.models import Complaint
from mla_core.core.settings import Settings
from mla_core.core.sms_text import DLT_VARIABLE_LIMIT

PURPOSES = ("complaint_registered", "complaint_assigned", "complaint_resolved", "complaint_transferred")
LANGUAGES = ("en", "ta", "hi")
STATUSES = ("assigned", "resolved", "transferred")


class LocalNames(AgentConfig):
    """An agent config with the constituency in local letters, as item 7 may add it."""

    constituency_local: Any = None


def logged(**overrides: object) -> Complaint:
    values: dict[str, object] = {
        "tenant_id": "abcde12345",
        "reference": 4217,
        "idempotency_key": "call-1",
        "category": "roads",
        "description": "Potholes",
        "location": "Ward 12",
        "caller_number": "+919876543210",
        "language": "en",
        "sla_due_at": NOW + timedelta(days=7),
        "created_at": NOW,
    }
    return Complaint.model_validate(values | overrides)


def every_sms(config: AgentConfig, department: str | None = "TNEB Mylapore") -> list[sms.Sms]:
    messages = [sms.confirmation(config, logged(language=language)) for language in LANGUAGES]
    for status in STATUSES:
        for language in LANGUAGES:
            row = complaint(language=language, reference=4217, category="roads", transferred_to=department)
            messages.append(sms.status_update(config, row, status))
    assert all(message is not None for message in messages)
    return [message for message in messages if message is not None]


def with_local(config: AgentConfig, local: object) -> LocalNames:
    return LocalNames.model_validate(config.model_dump() | {"constituency_local": local})


def test_there_is_one_template_for_each_message_in_each_language() -> None:
    assert set(sms.TEMPLATES) == {(purpose, language) for purpose in PURPOSES for language in LANGUAGES}
    assert len({template.dlt_text for template in sms.TEMPLATES.values()}) == len(sms.TEMPLATES)


@pytest.mark.parametrize("template", list(sms.TEMPLATES.values()), ids=lambda t: f"{t.purpose}-{t.language}")
def test_each_template_names_the_office_the_reference_and_how_to_ask(template: sms.Template) -> None:
    assert template.slots[0] == "constituency" and "reference" in template.slots
    assert set(template.slots) <= {"constituency", "category", "reference", "department", "office_number"}
    assert "office_number" in template.slots
    assert ("department" in template.slots) == (template.purpose == "complaint_transferred")
    assert template.dlt_text.count("{#var#}") == len(template.slots) and "{" not in template.dlt_text.replace(
        "{#var#}", ""
    )
    asks = {"en": "call {office_number}", "ta": "{office_number} எண்ணை அழைத்து", "hi": "{office_number} पर कॉल"}
    office = {"en": "MLA office, {#var#}:", "ta": "எம்எல்ஏ அலுவலகம், {#var#}:", "hi": "विधायक कार्यालय, {#var#}:"}
    assert template.dlt_text.startswith(office[template.language]) and asks[template.language] in template.text


def test_every_rendered_sms_matches_its_registered_template() -> None:
    hostile = office_config().model_copy(update={"constituency": "Chepauk-Thiruvallikeni Triplicane East 9876543210"})
    configs = [office_config(), hostile, with_local(office_config(), {"ta": "மயிலாப்பூர்", "hi": "मायलापुर"})]
    for config in configs:
        for department in ("TNEB Mylapore", "Greater Chennai Corporation, Zone 9 (Mylapore) http://x", None):
            for message in every_sms(config, department):
                template = sms.TEMPLATES[(message.purpose, message.language)]
                assert template.pattern.fullmatch(message.body), (message.purpose, message.language, message.body)


def test_a_variable_is_never_longer_than_the_dlt_limit_and_a_long_name_ends_at_a_word() -> None:
    assert sms.cut("Greater Chennai Corporation Zone 9 Mylapore") == "Greater Chennai Corporation"
    assert sms.cut("x" * 45) == "x" * DLT_VARIABLE_LIMIT
    assert sms.cut("  TNEB  ") == "TNEB"
    template = sms.Template("test", "en", "A {a}. B {b}.")
    assert template.pattern.fullmatch(template.render({"a": "y" * 90, "b": "z"}))
    assert not template.pattern.fullmatch("A " + "y" * 31 + ". B z.")


def test_the_english_confirmation_reads_as_a_sentence() -> None:
    message = sms.confirmation(office_config(), logged())
    assert message is not None and message.body == (
        "MLA office, Mylapore: your complaint about Roads is registered. Reference 4217."
        " To ask about it, call 044 4000 1234 and say this reference."
    )


@pytest.mark.parametrize(
    ("number", "written"),
    [("+914440001234", "044 4000 1234"), ("+919840012345", "98400 12345"), ("+9118004251234", "1800 425 1234")],
)
def test_the_sms_names_the_offices_number_as_people_write_it_for_a_walk_in_too(number: str, written: str) -> None:
    walk_in = logged(channel="walk_in")
    config = office_config().model_copy(update={"phone_numbers": [number]})
    for language in LANGUAGES:
        message = sms.confirmation(config, walk_in.model_copy(update={"language": language}))
        assert message is not None and written in message.body and "same number" not in message.body


def test_an_agent_without_a_number_of_its_own_names_the_office_in_words() -> None:
    message = sms.confirmation(office_config().model_copy(update={"phone_numbers": []}), logged())
    assert message is not None and "call the MLA office and say this reference" in message.body


def test_the_tamil_and_hindi_confirmations_put_an_english_constituency_in_the_header_only() -> None:
    tamil = sms.confirmation(office_config(), logged(language="ta"))
    hindi = sms.confirmation(office_config(), logged(language="hi"))
    assert tamil is not None and tamil.body.startswith("எம்எல்ஏ அலுவலகம், Mylapore: உங்கள் சாலை புகார் பதிவு")
    assert hindi is not None and hindi.body.startswith("विधायक कार्यालय, Mylapore: आपकी सड़क संबंधी शिकायत दर्ज")
    for body in (tamil.body, hindi.body):
        assert body.count("Mylapore") == 1 and re.search(r"[A-Za-z]", body.partition(":")[2]) is None


@pytest.mark.parametrize(
    "local",
    [{"ta": "மயிலாப்பூர்", "hi": "मायलापुर"}, "மயிலாப்பூர்"],
    ids=["a name per language", "one local name"],
)
def test_a_constituency_in_local_letters_is_used_in_its_own_language_only(local: object) -> None:
    config = with_local(office_config(), local)
    tamil = sms.confirmation(config, logged(language="ta"))
    english = sms.confirmation(config, logged(language="en"))
    hindi = sms.confirmation(config, logged(language="hi"))
    assert tamil is not None and tamil.body.startswith("எம்எல்ஏ அலுவலகம், மயிலாப்பூர்: ")
    assert english is not None and english.body.startswith("MLA office, Mylapore: ")
    expected_hindi = "मायलापुर" if isinstance(local, dict) else "Mylapore"  # never Tamil letters in Hindi
    assert hindi is not None and hindi.body.startswith(f"विधायक कार्यालय, {expected_hindi}: ")


def test_a_local_name_an_sms_may_not_carry_falls_back_to_the_english_one() -> None:
    config = with_local(office_config(), {"ta": "மயிலாப்பூர் http://evil.in 9876543210"})
    tamil = sms.confirmation(config, logged(language="ta"))
    assert tamil is not None and "evil" not in tamil.body and "98765" not in tamil.body
    assert tamil.body.startswith("எம்எல்ஏ அலுவலகம், Mylapore: ")
    blank = sms.confirmation(with_local(office_config(), {"ta": "  "}), logged(language="ta"))
    assert blank is not None and blank.body.startswith("எம்எல்ஏ அலுவலகம், Mylapore: ")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "MLA office, Mylapore: your complaint 4217 (Roads) is sent for action to: TNEB Mylapore."),
        ("ta", "எம்எல்ஏ அலுவலகம், Mylapore: உங்கள் சாலை புகார் (எண் 4217) நடவடிக்கைக்காக அனுப்பப்பட்டது: TNEB Mylapore."),
        ("hi", "विधायक कार्यालय, Mylapore: आपकी सड़क संबंधी शिकायत (संख्या 4217) कार्रवाई के लिए भेजी गई है: TNEB Mylapore।"),
    ],
)
def test_the_transfer_sms_names_the_department_the_office_entered(language: str, expected: str) -> None:
    row = complaint(language=language, reference=4217, category="roads", transferred_to="TNEB Mylapore")
    message = sms.status_update(office_config(), row, "transferred")
    assert message is not None and message.body.startswith(expected)


def test_a_transfer_without_a_department_names_it_in_general_words() -> None:
    row = complaint(language="en", reference=4217, category="roads", transferred_to=None)
    message = sms.status_update(office_config(), row, "transferred")
    assert message is not None and "sent for action to: the department concerned." in message.body


# Template ids in the settings --------------------------------------------------------------------


def test_each_message_and_language_has_its_own_template_id_from_the_settings() -> None:
    settings = Settings(
        sms_dlt_template_ids="complaint_registered.ta=1107000000000000011, complaint_registered.en=1107000000000000012,"
        "complaint_transferred.hi=1107000000000000013",
        sms_dlt_template_complaint_registered="1107000000000000001",
    )
    ids = settings.sms_template_ids
    config = office_config()
    assert [
        message.template_id
        for message in (
            sms.confirmation(config, logged(language="ta"), ids),
            sms.confirmation(config, logged(language="en"), ids),
            sms.confirmation(config, logged(language="hi"), ids),  # the older single id, as before
            sms.status_update(config, complaint(language="hi", transferred_to="TNEB"), "transferred", ids),
            sms.status_update(config, complaint(language="ta", transferred_to="TNEB"), "transferred", ids),
        )
        if message is not None
    ] == ["1107000000000000011", "1107000000000000012", "1107000000000000001", "1107000000000000013", ""]


def test_without_the_new_setting_the_older_confirmation_id_is_used_in_every_language() -> None:
    ids = Settings(
        sms_dlt_template_ids="", sms_dlt_template_complaint_registered="1107000000000000001"
    ).sms_template_ids
    for language in LANGUAGES:
        message = sms.confirmation(office_config(), logged(language=language), ids)
        assert message is not None and message.template_id == "1107000000000000001"
    assert Settings(sms_dlt_template_ids="", sms_dlt_template_complaint_registered="").sms_template_ids == {}


@pytest.mark.parametrize("listed", ["complaint_registered=1107", "complaint_registered.ta=", "x.ta=11a"])
def test_a_malformed_template_id_list_is_refused_at_start(listed: str) -> None:
    with pytest.raises(ValidationError, match="sms_dlt_template_ids"):
        Settings(sms_dlt_template_ids=listed)


def test_the_registration_list_has_each_template_text_with_dlt_variables() -> None:
    listed = sms.registration_list()
    assert len(listed) == len(sms.TEMPLATES) == 12
    assert ("complaint_transferred", "en", sms.TEMPLATES[("complaint_transferred", "en")].dlt_text) in listed
    assert all("{#var#}" in text and "{constituency}" not in text for _, _, text in listed)
