"""What a text an office configures may hold when an SMS carries it (a category's name, the MLA's or
the constituency's name in a language's script): the one rule the config's validators and the SMS
builder (`mla_core.complaints.sms`) share."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# What an SMS variable may hold ------------------------------------------------------------
#
# Operators cap each DLT `{#var#}` at 30–40 characters; 30 fits them all. A category's name goes
# into constituents' SMS as one, so a name is held to what an SMS variable may carry: letters,
# digits and spaces of the scripts we speak (Latin, Devanagari, Tamil) and a little punctuation
# that cannot make a link, an address or a phone number. The SMS builder applies the same rule
# to what it sends (`mla_core.complaints.sms`), so a config stored before these bounds cannot
# leak either: stored configs still load (`Category` stays as it was), what is sent is checked.
DLT_VARIABLE_LIMIT = 30
MAX_DIGITS_IN_SMS_TEXT = 4  # a ward or a year; never a phone number
SMS_TEXT_PUNCTUATION = frozenset(" -/&(),'")
_SCRIPT_BLOCKS = ((0x0900, 0x097F), (0x0B80, 0x0BFF))  # Devanagari (Hindi), Tamil; English is ASCII
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ / ZWJ: Indic keyboards type them inside words


def in_our_scripts(ch: str) -> bool:
    """A letter, vowel sign or digit of Latin (ASCII), Devanagari or Tamil."""
    if ch in _JOINERS:
        return True
    if unicodedata.category(ch)[0] not in "LMN":
        return False
    point = ord(ch)
    return point < 0x80 or any(low <= point <= high for low, high in _SCRIPT_BLOCKS)


def _initials_stop(value: str, at: int) -> bool:
    """An initial's full stop ("க. செல்வி", "K. Selvi"): before a space or at the end, where a dot
    cannot make a link or an address."""
    return value[at] == "." and (at + 1 == len(value) or value[at + 1] == " ")


def sms_text_problem(value: str, *, limit: int = DLT_VARIABLE_LIMIT) -> str | None:
    """Why `value` cannot be an SMS variable as it is (None when it can): the one rule that the
    config's validators and the SMS builder share."""
    if not value.strip():
        return "must not be empty"
    if len(value) > limit:
        return f"at most {limit} characters"
    if any(
        not in_our_scripts(ch) and ch not in SMS_TEXT_PUNCTUATION and not _initials_stop(value, i)
        for i, ch in enumerate(value)
    ):
        return (
            "only letters, digits, spaces and - / & ( ) , ' in Tamil, Hindi or English script, and a full stop"
            " after an initial (no links or symbols)"
        )
    if sum(ch.isdigit() for ch in value) > MAX_DIGITS_IN_SMS_TEXT:
        return f"at most {MAX_DIGITS_IN_SMS_TEXT} digits (no phone numbers)"
    return None


def sms_text(value: str) -> str:
    """`value`, when an SMS variable may carry it as it is (a `ValueError` saying why not)."""
    problem = sms_text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# The MLA's or the constituency's name in a language's script, as an office enters it (an SMS variable too).
LocalName = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(sms_text)]


def _blank_or_sms_text(value: str) -> str:
    return value and sms_text(value)


# The same in an edit, where a blank one goes back to the English spelling (one error, not one per
# branch of a union).
LocalNameEdit = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_blank_or_sms_text)]
