"""Field types that request models across the features share: Indian phone numbers, languages,
and lists that must not repeat a value.

A phone number is read the ways people write one in India (`98400 12345`, `09840012345`,
`+91 98765 43210`, `044-2345 6789`, `1800 425 1234`) by one parser, Google's libphonenumber
(`phonenumbers`, region IN: it knows which mobile series and STD codes exist), and stored as E.164.
Its digits are read as ASCII first: a full-width ０ or a Devanagari ४ is a decimal digit to Unicode,
but a number stored with one never matches the number LiveKit reports for the same phone.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import AfterValidator, BeforeValidator

from mla_core.core.languages import SUPPORTED_LANGUAGES

# What a typed number may hold besides digits: a leading +, and the spaces, dashes, dots and brackets
# people group digits with (no letters: a vanity number or an extension is not a number we can dial).
_TYPED_NUMBER = re.compile(r"\+?[0-9][0-9 ().\-]{3,30}")
# The kinds of Indian number an office or a person may give; a pager or a premium-rate one is not.
_KINDS = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE,
}
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# A ValueError's words (core.messages maps them to the `indian_phone` sentence): never the number
# itself, which would reach the logs.
NOT_AN_INDIAN_NUMBER = "must be an Indian phone number: a mobile, a landline with its STD code or a toll-free number"
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


def indian_number(typed: str, *, mobile: bool = False) -> str:
    """`typed` as E.164 (`+919840012345`, `+914423456789`, `+9118004251234`): an Indian mobile,
    landline (with its STD code) or toll-free number as people write it, in any script's digits;
    a mobile only when `mobile` (where an SMS must reach it). Raises ValueError (`NOT_AN_INDIAN_NUMBER`)
    for anything else: too short or long, a series or STD code that does not exist, a foreign number."""
    text = ascii_digits(typed.strip())
    if not _TYPED_NUMBER.fullmatch(text):
        raise ValueError(NOT_AN_INDIAN_NUMBER)
    try:
        parsed = phonenumbers.parse(text, "IN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(NOT_AN_INDIAN_NUMBER) from exc
    kinds = _MOBILE if mobile else _KINDS
    if parsed.country_code != 91 or not phonenumbers.is_valid_number(parsed):
        raise ValueError(NOT_AN_INDIAN_NUMBER)
    if phonenumbers.number_type(parsed) not in kinds:
        raise ValueError(NOT_AN_INDIAN_NUMBER)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def indian_mobile(typed: str) -> str | None:
    """`typed` as an Indian mobile number in E.164, or None (a landline cannot take an SMS)."""
    try:
        return indian_number(typed, mobile=True)
    except ValueError:
        return None


def written_number(number: str) -> str:
    """An Indian number in E.164 as people in India write it to dial it: a mobile as `98400 12345`,
    a landline with its STD code as `044 2345 6789`, a toll-free one as `1800 425 1234`; a number
    the parser does not take, as it is."""
    try:
        parsed = phonenumbers.parse(number, "IN")
    except phonenumbers.NumberParseException:
        return number
    if parsed.country_code != 91 or not phonenumbers.is_valid_number(parsed):
        return number
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national.removeprefix("0") if phonenumbers.number_type(parsed) in _MOBILE else national


def _e164(number: str) -> str:
    return indian_number(number)


def _language(code: str) -> str:
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    return code


def distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


# Digits read as ASCII first, for a pattern of the number's own.
AsciiDigits = BeforeValidator(_ascii_digits)
# An Indian phone number as typed (`98400 12345`, `044-2345 6789`, …), stored as E.164 (`indian_number`).
PhoneNumber = Annotated[str, AsciiDigits, AfterValidator(_e164)]
Language = Annotated[str, AfterValidator(_language)]
