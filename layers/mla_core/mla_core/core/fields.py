"""Field types that request models across the features share: Indian phone numbers, languages,
and lists that must not repeat a value.

A number's digits are read as ASCII before its pattern is checked: a full-width ０ or a Devanagari
४ is a decimal digit to Unicode (and to a `\\d` pattern), but a number stored with one never matches
the number LiveKit reports for the same phone. So what is stored is plain E.164: `+91` and ASCII digits.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from mla_core.core.languages import SUPPORTED_LANGUAGES

# India's E.164 numbers: +91 then 10 digits (mobile, landline with STD code) or 11 (toll-free 1800…).
_INDIAN_E164 = re.compile(r"^\+91[1-9][0-9]{9,10}$")
# What a SIP trunk reports for a caller or the number dialed: E.164, or the bare digits some trunks send.
_SIP_NUMBER = re.compile(r"\+?[0-9]{3,15}")


def ascii_digits(text: str) -> str:
    """`text` with every Unicode decimal digit (０, ४, ௪, …) written as its ASCII digit."""
    if text.isascii():
        return text
    return "".join(str(digit) if (digit := unicodedata.decimal(ch, None)) is not None else ch for ch in text)


def _ascii_digits(value: Any) -> Any:
    return ascii_digits(value) if isinstance(value, str) else value


def sip_number(value: str | None) -> str | None:
    """A number as a SIP participant's attributes give it (`sip.phoneNumber`, `sip.trunkPhoneNumber`),
    in ASCII digits; None when there is none (a hidden caller) or it is not a number."""
    number = ascii_digits(value.strip()) if value else ""
    return number if _SIP_NUMBER.fullmatch(number) else None


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


# Digits read as ASCII first, for a pattern of the number's own (see `PhoneNumber`).
AsciiDigits = BeforeValidator(_ascii_digits)
PhoneNumber = Annotated[str, AsciiDigits, AfterValidator(_e164)]
Language = Annotated[str, AfterValidator(_language)]
