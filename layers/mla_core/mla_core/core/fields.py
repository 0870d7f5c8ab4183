"""Field types that request models across the features share: Indian phone numbers, languages,
and lists that must not repeat a value."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from mla_core.core.languages import SUPPORTED_LANGUAGES

# India's E.164 numbers: +91 then 10 digits (mobile, landline with STD code) or 11 (toll-free 1800…).
_INDIAN_E164 = re.compile(r"^\+91[1-9]\d{9,10}$")


def _e164(number: str) -> str:
    if not _INDIAN_E164.fullmatch(number):
        raise ValueError("must be an Indian number in E.164 form, e.g. +919876543210")
    return number


def _language(code: str) -> str:
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    return code


def distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


PhoneNumber = Annotated[str, AfterValidator(_e164)]
Language = Annotated[str, AfterValidator(_language)]
