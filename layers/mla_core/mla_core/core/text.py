"""Text as the platform takes it in, at every edge (the API and the pages, the agent's tools, the
LiveKit webhook): one rule, applied before anything is validated or stored.

Refused, naming the field: control characters (Unicode category Cc: U+0000–U+001F and U+007F–U+009F)
other than tab, line feed and carriage return, and lone surrogates (category Cs, U+D800–U+DFFF). Postgres
cannot store a NUL in text, psycopg cannot encode a surrogate, and no one types the others.

Normalised: every string to NFC, so that the same word is always the same code points (a Tamil vowel
sign or an "é" typed as two code points is stored as the one that composes them), and a search, a
category name or an idempotency key matches however the text was typed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from mla_core.core.errors import InvalidInputError

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Where an HTTP edge that leaves the answer to the app mounted at the path (the pages answer with a
# page, in the reader's language) puts its refusal: `request.state.refused_input`.
REFUSED_INPUT = "refused_input"


def refusal(field: str, char: str) -> InvalidInputError:
    """The error for `char` found in `field`: the field named, the character by its code point."""
    point = ord(char)
    what, kind = (
        ("a lone surrogate", "lone_surrogate")
        if 0xD800 <= point <= 0xDFFF
        else ("a control character", "control_character")
    )
    reason = f"contains {what} (U+{point:04X}), which is not accepted"
    return InvalidInputError(f"{field} {reason}", details=[{"field": field, "reason": reason, "type": kind}])


def clean(value: str, field: str) -> str:
    """`value` in NFC; raises `InvalidInputError` naming `field` when it holds a refused character."""
    found = _REFUSED.search(value)
    if found is not None:
        raise refusal(field, found.group())
    if value.isascii() or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)


def clean_json(value: Any, field: str) -> Any:
    """Parsed JSON with every string cleaned, object keys included. `field` says where `value` is
    (`body`, or "" for the top), and an error names the path inside it: `body.greetings.ta`,
    `body.phone_numbers.0`."""
    if isinstance(value, str):
        return clean(value, field)
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            name = clean(key, field) if isinstance(key, str) else key
            cleaned[name] = clean_json(item, f"{field}.{name}" if field else str(name))
        return cleaned
    if isinstance(value, list):
        return [clean_json(item, f"{field}.{index}" if field else str(index)) for index, item in enumerate(value)]
    return value
