"""The catalogue of error sentences (`core.messages`): every reason our code raises has a sentence
in English, Hindi and Tamil, pydantic's errors read as sentences, and `Accept-Language` is honoured."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from mla_core.core import messages
from mla_core.tenants.request import TenantRequest

SOURCES = Path(messages.__file__).parents[1]
REASON = re.compile(r'"reason": "([a-z_ ]+)"')


def test_every_reason_our_code_raises_has_a_sentence_in_each_language() -> None:
    raised = {m for path in SOURCES.rglob("*.py") for m in REASON.findall(path.read_text(encoding="utf-8"))}
    missing = {reason for reason in raised if reason not in messages.REASONS}
    assert raised and not missing, missing
    assert all(
        all(words) for words in (*messages.REASONS.values(), *messages.CODES.values(), *messages.FIELDS.values())
    )


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("hi", "hi"),
        ("ta-IN,ta;q=0.9,en;q=0.8", "ta"),
        ("en;q=0.5, hi;q=0.9", "hi"),
        ("fr, *;q=0.1", "en"),
        ("hi;q=0, ta;q=0.2", "ta"),
        ("en, hi", "en"),
        ("hi;q=bad", "en"),
    ],
)
def test_the_answer_language_is_the_clients_best_choice_of_ours(header: str | None, lang: str) -> None:
    assert messages.negotiate(header) == lang


def test_pydantics_errors_read_as_sentences_with_the_field_in_words() -> None:
    with pytest.raises(ValidationError) as caught:
        TenantRequest.model_validate({"mla_name": "", "languages": [], "admin_email": "x", "phone_numbers": ["1"]})
    by_field = {".".join(map(str, e["loc"])): e for e in caught.value.errors()}

    assert messages.pydantic_sentence(by_field["languages"], "languages", "hi") == "कम से कम एक भाषा चुनें।"
    assert messages.pydantic_sentence(by_field["admin_email"], "admin_email", "en").startswith("Enter a valid email")
    assert messages.pydantic_sentence(by_field["mla_name"], "mla_name", "ta") == "சட்டமன்ற உறுப்பினர் பெயர் நிரப்பப்பட வேண்டும்."
    assert "List should" not in messages.pydantic_sentence(by_field["languages"], "languages", "en")


def test_an_error_is_in_its_domain_english_or_in_the_catalogues_hindi_and_tamil() -> None:
    details = [{"field": "duplicate_of", "reason": "required"}]

    assert messages.error_sentence("validation_error", "say which complaint", details, "en") == "say which complaint"
    assert messages.error_sentence("validation_error", "x", details, "hi").startswith("बताएं कि यह किस शिकायत")
    assert messages.error_sentence("not_found", "no such complaint", [], "ta") == messages.CODES["not_found"][2]
    assert messages.detail_sentence({"field": "phone_numbers.1", "reason": "already_taken"}, "en") == (
        "This phone number already belongs to an office."
    )
