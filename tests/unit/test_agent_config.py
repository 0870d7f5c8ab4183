from __future__ import annotations

import pytest
from pydantic import ValidationError

from mla_core.agents.config import (
    DEFAULT_CATEGORIES,
    RECORDING_NOTICE,
    AgentConfig,
    build_default_config,
)
from mla_core.agents.manage import AgentUpdate
from mla_core.core.sms_text import sms_text_problem
from mla_core.identity.invitations import invitation_link
from mla_core.provisioning import welcome


def config(languages: list[str], greeting: str | None = None) -> AgentConfig:
    return build_default_config(
        tenant_id="abcde12345",
        mla_name="K. Selvi",
        constituency="Mylapore",
        state="Tamil Nadu",
        languages=languages,
        phone_numbers=["+914440001234"],
        greeting=greeting,
        sender_id="MLAOFC",
    )


def test_default_config_greets_in_each_language_with_the_recording_notice() -> None:
    cfg = config(["ta", "hi", "en"])
    assert cfg.greeting_language == "ta"
    for language in ("ta", "hi", "en"):
        assert RECORDING_NOTICE[language] in cfg.profiles[language].greeting
        assert cfg.profiles[language].stt.model == "nova-3"
        assert cfg.profiles[language].tts.model == "sonic-3"
    assert cfg.llm.model == "gpt-4.1-mini"
    assert "Mylapore" in cfg.profiles["en"].greeting


def test_a_custom_greeting_keeps_the_recording_notice() -> None:
    cfg = config(["hi"], greeting="राम राम जी!")
    assert cfg.profiles["hi"].greeting.startswith("राम राम जी!")
    assert RECORDING_NOTICE["hi"] in cfg.profiles["hi"].greeting


def test_config_round_trips_through_json_with_its_schema_version() -> None:
    cfg = config(["ta"])
    again = AgentConfig.model_validate_json(cfg.model_dump_json())
    assert again == cfg
    assert again.schema_version == 1
    assert {c.code for c in again.categories} >= {"water", "electricity", "roads", "ration_pds", "other"}


def test_a_config_stored_with_the_old_sms_template_bodies_still_loads() -> None:
    stored = config(["ta"]).model_dump(mode="json")
    stored["sms"]["templates"] = {"complaint_registered": {"dlt_template_id": "", "bodies": {"en": "Ref: {#var#}"}}}

    loaded = AgentConfig.model_validate(stored)

    assert loaded.sms.sender_id == "MLAOFC" and "templates" not in loaded.sms.model_dump()


def test_welcome_email_is_in_english_and_the_first_language_with_the_link() -> None:
    link = invitation_link("https://app.example.in/", "tok en")
    assert link == "https://app.example.in/register?token=tok+en"
    email = welcome.compose(
        mla_name="K. Selvi", constituency="Mylapore", phone_numbers=["+914440001234"], language="ta", link=link
    )
    assert "Welcome to MLA Voice AI" in email.text
    assert "வரவேற்கிறோம்" in email.text
    assert email.text.count(link) == 2
    assert "+914440001234" in email.text
    assert f'href="{link}"' in email.html.replace("&amp;", "&")


# Bounds on what an office may set ---------------------------------------------------------------


def categories(**category: object) -> dict[str, object]:
    return {"version": 1, "categories": [{"code": "water", "names": {"en": "Water supply"}, "sla_days": 7, **category}]}


def refusal(body: dict[str, object]) -> tuple[str, str]:
    """The one error a settings body gets: where (the field's path) and why."""
    with pytest.raises(ValidationError) as caught:
        AgentUpdate.model_validate(body)
    [error] = caught.value.errors()
    return ".".join(str(part) for part in error["loc"]), error["msg"]


def test_the_default_categories_are_within_the_bounds_an_office_is_held_to() -> None:
    settings = AgentUpdate.model_validate({"version": 1, "categories": [c.model_dump() for c in DEFAULT_CATEGORIES]})
    assert settings.categories is not None and [c.stored() for c in settings.categories] == DEFAULT_CATEGORIES


@pytest.mark.parametrize(
    ("category", "field", "reason"),
    [
        ({"names": {"en": "x" * 200_000}}, "categories.0.names.en", "at most 30 characters"),
        ({"names": {"ta": "குடிநீர் http://evil.example/x"}}, "categories.0.names.ta", "no links"),
        ({"names": {"en": "Water www.evil.in"}}, "categories.0.names.en", "no links"),
        ({"names": {"hi": "पानी 98765 43210"}}, "categories.0.names.hi", "no phone numbers"),
        ({"names": {"en": "Water 💧"}}, "categories.0.names.en", "no links or symbols"),
        ({"names": {"en": "Вода"}}, "categories.0.names.en", "Tamil, Hindi or English script"),
        ({"names": {"en": "   "}}, "categories.0.names.en", "must not be empty"),
        ({"names": {"xx": "Water"}}, "categories.0.names.xx.[key]", "unsupported language"),
        ({"names": {}}, "categories.0.names", "at least 1 item"),
        ({"code": "w" * 200_000}, "categories.0.code", "at most 40 characters"),
        ({"code": "water supply"}, "categories.0.code", "should match pattern"),
        ({"code": ""}, "categories.0.code", "should match pattern"),
        ({"extra": "x"}, "categories.0.extra", "Extra inputs are not permitted"),
    ],
)
def test_a_category_is_refused_naming_the_field_when_a_text_is_out_of_bounds(
    category: dict[str, object], field: str, reason: str
) -> None:
    where, why = refusal(categories(**category))
    assert where == field and reason in why


def test_each_category_needs_its_own_code_and_an_office_has_at_most_thirty() -> None:
    water = {"code": "water", "names": {"en": "Water"}, "sla_days": 7}
    assert refusal({"version": 1, "categories": [water, {**water, "code": "WATER"}]}) == (
        "categories",
        "Value error, each category needs its own code",
    )
    many = [{**water, "code": f"c{n}"} for n in range(31)]
    assert refusal({"version": 1, "categories": many})[0] == "categories"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 61}, "name"),
        ({"name": " "}, "name"),
        ({"greetings": {"ta": "வணக்கம் " * 100}}, "greetings.ta"),
        ({"voices": {"en": "x" * 101}}, "voices.en"),
        ({"voices": {"en": "<script>"}}, "voices.en"),
    ],
)
def test_the_agents_name_greetings_and_voices_are_bounded(body: dict[str, object], field: str) -> None:
    assert refusal({"version": 1, **body})[0] == field


def test_a_name_an_sms_may_carry_keeps_letters_digits_and_harmless_punctuation_of_our_scripts() -> None:
    for name in ("Ration / PDS", "पेंशन / कल्याण", "ஓய்வூதியம் / நலத்திட்டம்", "Ward 12 (north)", "सफ़ाई", "Roads & bridges"):
        assert sms_text_problem(name) is None, name
    for name in ("evil.com", "a:b", "mail@x", "call 9876543210", "#1", "x" * 31):
        assert sms_text_problem(name) is not None, name
