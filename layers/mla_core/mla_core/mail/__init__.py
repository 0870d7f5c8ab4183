"""The emails we send (a new office's welcome, a teammate's invitation, a password reset): each is
composed from its words (`Section`s and a link) into a text part and an HTML part by the Jinja2
templates beside this module, and sent by `send`, the one place that hands an email to SES.

The HTML part is autoescaped, so a name such as `<script>` arrives as text. Header values (the
subject) lose CR, LF and every other control or bidirectional formatting character on the way out:
a name cannot add a header or reorder what a reader sees.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mla_core.adapters import Services

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Section:
    """One language's part of an email: its paragraphs, then the line that introduces the link, and
    the words of a button that opens it (the HTML part shows the button, then the link itself, which
    a reader can copy when a mail program hides buttons)."""

    paragraphs: Sequence[str]
    action: str
    button: str = ""

    def filled(self, **values: object) -> Section:
        """The words with `values` in their `{placeholders}` (escaped later, with the rest, in HTML)."""
        return Section(
            [p.format(**values) for p in self.paragraphs], self.action.format(**values), self.button.format(**values)
        )


def languages_for(language: str, written: Mapping[str, object]) -> list[str]:
    """The languages an office's email is in: English first, then the office's `language` when it is
    another one the email is `written` in."""
    return ["en"] if language == "en" or language not in written else ["en", language]


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    # Imported on first use: a function that sends no email (the dashboard API's sign-in) does not
    # load Jinja2 at cold start.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def compose(subject: str, sections: Sequence[Section], link: str) -> Email:
    """The email with `sections` in order (one per language), each ending with `link`."""
    env = _environment()
    values = {"sections": sections, "link": link}
    return Email(
        subject=header_value(subject),
        text=env.get_template("message.txt").render(values),
        html=env.get_template("message.html").render(values),
    )


# Unicode's bidirectional controls (embeddings, overrides, isolates, marks): Cf characters that a
# subject never needs, and that can make it read differently from what it says.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def header_value(text: str) -> str:
    """`text` fit for an email header: line breaks become spaces, other control characters (Cc) and
    the bidirectional controls are dropped, and runs of spaces are one space."""
    text = re.sub(r"[\r\n\u2028\u2029\u0085]+", " ", text)
    text = "".join(ch for ch in _BIDI.sub("", text) if unicodedata.category(ch) != "Cc")
    return re.sub(r" {2,}", " ", text).strip()


def send(services: Services, to: str, email: Email) -> str:
    """Send `email` to `to` (through SES); returns the message id."""
    return services.mailer.send(header_value(to), header_value(email.subject), email.text, email.html)
