"""Personal data (DPDP): phone numbers masked in logs, found in free text as people write them, and named
in our records by a keyed digest rather than the number itself."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any

from mla_core.core.fields import ascii_digits

ERASED_NUMBER = "[number erased]"


def mask_phone(number: str | None) -> str | None:
    """`+919876543210` → `+91******3210`: enough to correlate, not enough to call."""
    if not number:
        return number
    return number[:3] + "*" * max(0, len(number) - 7) + number[-4:]


def national_digits(e164: str) -> str:
    """The digits after India's +91: what a caller says or a note writes, `9876543210`."""
    return e164[3:] if e164.startswith("+91") else e164.lstrip("+")


def mentions_pattern(e164: str) -> str:
    """A regular expression, the same for Python's `re` and Postgres's `~`, that finds the number as people
    write it, once its digits are ASCII (`ascii_digits`; Postgres: `translate`): `+91 98765 43210`,
    `919876543210`, `09876543210`, `98765-43210`, `9 8 7 6 5 4 3 2 1 0`."""
    gap = r"[\s.-]?"
    return r"((\+?91|0)" + gap + ")?" + gap.join(national_digits(e164))


def redact_mentions(text: str, e164: str, replacement: str = ERASED_NUMBER) -> str:
    """`text` with every mention of the number replaced; other digits, Tamil or Devanagari ones too, kept."""
    found = list(re.finditer(mentions_pattern(e164), ascii_digits(text)))  # same length: positions match
    for match in reversed(found):
        text = text[: match.start()] + replacement + text[match.end() :]
    return text


def subject_digest(key: bytes, tenant_id: str, e164: str) -> str:
    """Who a record of an export or an erasure is about, without the number: HMAC-SHA256 under a secret key,
    per office (the same person's digests in two offices differ, so they cannot be linked)."""
    return hmac.new(key, f"{tenant_id}:{e164}".encode(), hashlib.sha256).hexdigest()


# A run of eight or more digits, with the spaces, dots or hyphens people put between them: a phone number
# in a line we did not write (a library's room name, `sip_+91…` identities). A date (`2026-12-02`, which
# timestamps and API paths put on many lines) is matched as one and kept; what follows it is a run of its own.
_LONG_NUMBER = re.compile(
    r"(?P<date>(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])(?![0-9]))"
    r"|\+?[0-9](?:[\s.-]?[0-9]){7,}"
)
# The same runs in any script's digits (`\d` is every Unicode decimal digit, as `ascii_digits` converts):
# one search tells the lines with none, most of them, without converting anything.
_ANY_LONG_NUMBER = re.compile(r"\d(?:[\s.-]?\d){7,}")


def mask_numbers(text: str) -> str:
    """Every long run of digits in `text` masked as `mask_phone` does (its last four digits kept)."""
    if not _ANY_LONG_NUMBER.search(text):
        return text
    plain = ascii_digits(text)
    found = [match for match in _LONG_NUMBER.finditer(plain) if not match["date"]]
    for match in reversed(found):
        digits = re.sub(r"[^0-9+]", "", match.group())
        text = text[: match.start()] + (mask_phone(digits) or "") + text[match.end() :]
    return text


class RedactNumbers(logging.Filter):
    """Masks phone numbers in every record that passes: its message, its arguments and its string extras.
    For the lines our code does not write (livekit-agents' own, with room names and SIP identities); ours
    mask numbers where they log them."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    @classmethod
    def on_handlers(cls, *handlers: logging.Handler) -> None:
        """Install the filter on each handler (the root logger's when none is named), once each: a
        handler's filters see every record it writes, whichever logger it came through."""
        for handler in handlers or tuple(logging.getLogger().handlers):
            if not any(isinstance(f, cls) for f in handler.filters):
                handler.addFilter(cls())

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _masked(record.msg)  # text, or the dict a Powertools logger is given
        if record.args:
            record.args = _masked(record.args)
        for name, value in list(record.__dict__.items()):
            if name not in self._STANDARD:
                record.__dict__[name] = _masked(value)
        return True


def _masked(value: Any) -> Any:
    return map_text(value, mask_numbers)


def map_text(value: Any, change: Callable[[str], str]) -> Any:
    """`value` with `change` applied to every string in it, however deep in lists, tuples and dicts (a log
    record's fields, a call's transcript); bytes as UTF-8 text, kept bytes (a request or response body an
    SDK logs at DEBUG, botocore's); anything else as it is."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, bytes):
        return change(value.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    if isinstance(value, tuple):
        return tuple(map_text(v, change) for v in value)
    if isinstance(value, list):
        return [map_text(v, change) for v in value]
    if isinstance(value, dict):
        return {k: map_text(v, change) for k, v in value.items()}
    return value
