"""The greeting as a caller hears it: names in the language's script, the notice before the question."""

from __future__ import annotations

from mla_core.agents.config import (
    RECORDING_NOTICE,
    AgentConfig,
    build_default_config,
    split_closing_question,
    spoken_greeting,
    with_recording_notice,
)


def config(**update: object) -> AgentConfig:
    base = build_default_config(
        tenant_id="abcde12345",
        mla_name="K. Selvi",
        constituency="Mylapore",
        state="Tamil Nadu",
        languages=["ta", "hi", "en"],
        phone_numbers=["+914440001234"],
        greeting=None,
        sender_id="MLAOFC",
    )
    return base.model_copy(update=update)


def test_a_tamil_greeting_says_the_names_in_tamil_script_when_the_office_entered_them() -> None:
    cfg = config(mla_name_local={"ta": "கே. செல்வி"}, constituency_local={"ta": "மயிலாப்பூர்"})
    tamil = spoken_greeting(cfg, "ta", cfg.profiles["ta"].greeting)
    assert "கே. செல்வி" in tamil and "மயிலாப்பூர்" in tamil
    assert "Selvi" not in tamil and "Mylapore" not in tamil
    # Hindi has no local spelling here: it keeps the English letters; English is untouched.
    assert "Mylapore" in spoken_greeting(cfg, "hi", cfg.profiles["hi"].greeting)
    assert spoken_greeting(cfg, "en", cfg.profiles["en"].greeting) == cfg.profiles["en"].greeting


def test_names_without_a_local_spelling_leave_the_greeting_as_stored() -> None:
    cfg = config()
    assert spoken_greeting(cfg, "ta", cfg.profiles["ta"].greeting) == cfg.profiles["ta"].greeting
    assert cfg.mla_name_in("ta") == "K. Selvi" and cfg.constituency_in("hi") == "Mylapore"


def test_stored_configs_without_local_names_still_load() -> None:
    stored = config().model_dump(mode="json")
    del stored["mla_name_local"], stored["constituency_local"]
    assert AgentConfig.model_validate(stored).mla_name_local == {}


def test_an_edited_greeting_gets_the_recording_notice_before_its_closing_question() -> None:
    edited = with_recording_notice("வணக்கம்! செல்வி அலுவலகம். உங்கள் புகார் என்ன?", "ta")
    assert edited == f"வணக்கம்! செல்வி அலுவலகம். {RECORDING_NOTICE['ta']} உங்கள் புகார் என்ன?"
    hindi = with_recording_notice("नमस्ते। बताइए, आपकी शिकायत क्या है?", "hi")
    assert hindi == f"नमस्ते। {RECORDING_NOTICE['hi']} बताइए, आपकी शिकायत क्या है?"


def test_a_greeting_stored_with_the_notice_after_its_question_is_said_with_it_before() -> None:
    stored = f"Hello! How can we help? {RECORDING_NOTICE['en']}"
    assert with_recording_notice(stored, "en") == f"Hello! {RECORDING_NOTICE['en']} How can we help?"


def test_a_greeting_without_a_question_ends_with_the_notice_and_one_in_place_is_kept() -> None:
    assert with_recording_notice("राम राम जी!", "hi") == f"राम राम जी! {RECORDING_NOTICE['hi']}"
    in_place = f"{RECORDING_NOTICE['en']} Hello, what is your complaint?"
    assert with_recording_notice(in_place, "en") == in_place


def test_the_closing_question_is_split_from_the_rest_of_the_greeting() -> None:
    cfg = config()
    body, question = split_closing_question(cfg.profiles["ta"].greeting)
    assert RECORDING_NOTICE["ta"] in body and question == "உங்கள் புகார் என்ன?"
    assert split_closing_question("Hello.") == ("Hello.", "")


def test_the_notice_says_details_are_remembered_and_a_greeting_stored_before_that_gets_the_whole_notice() -> None:
    assert RECORDING_NOTICE["en"].endswith("The office remembers your details for your next call.")
    assert "याद रखता है" in RECORDING_NOTICE["hi"] and "நினைவில் வைத்திருக்கும்" in RECORDING_NOTICE["ta"]
    recorded_only = "உங்கள் புகாரைப் பதிவு செய்ய இந்த அழைப்பு பதிவு செய்யப்படுகிறது."  # the notice until issue 18
    stored = f"வணக்கம்! செல்வி அலுவலகம். {recorded_only} உங்கள் புகார் என்ன?"
    assert with_recording_notice(stored, "ta") == f"வணக்கம்! செல்வி அலுவலகம். {RECORDING_NOTICE['ta']} உங்கள் புகார் என்ன?"
    after_question = "Hello! How can we help? This call is recorded to register your complaint."
    assert with_recording_notice(after_question, "en") == f"Hello! {RECORDING_NOTICE['en']} How can we help?"
    assert with_recording_notice(RECORDING_NOTICE["hi"], "hi") == RECORDING_NOTICE["hi"]  # said once, not twice


def test_a_hidden_callers_greeting_leaves_out_that_details_are_remembered() -> None:
    from mla_core.agents.config import RECORDING_NOTICE, without_memory_notice

    for language, notice in RECORDING_NOTICE.items():
        recorded, remembered = notice.split(" ", 1)[0], notice
        greeting = f"Vanakkam. {notice} What is your complaint?"
        spoken = without_memory_notice(greeting, language)
        assert recorded in spoken and remembered not in spoken and spoken.endswith("What is your complaint?")
