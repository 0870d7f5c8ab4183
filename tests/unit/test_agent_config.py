from __future__ import annotations

from mla_core.agents.config import RECORDING_NOTICE, AgentConfig, build_default_config
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
