"""Every email through one template pair (issue 12, item 9): the HTML part escapes what offices typed,
the text part is plain, and a header value keeps no line break nor bidirectional control."""

from __future__ import annotations

import pytest

from mla_core import mail
from mla_core.identity.invitations import invitation_link, reset_link
from mla_core.mail import Section, header_value
from mla_core.provisioning import welcome


def test_the_html_part_escapes_values_and_the_text_part_keeps_them() -> None:
    link = "https://app.example.in/register?token=a-b_c&x=1"
    email = mail.compose("Hello", [Section(["<script>alert(1)</script> & Co invited you."], "Here:")], link)

    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co invited you." in email.html
    assert "<script>" not in email.html
    assert '<a href="https://app.example.in/register?token=a-b_c&amp;x=1">' in email.html
    assert email.text == "<script>alert(1)</script> & Co invited you.\n\nHere:\n" + link


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Mylapore\r\nBcc: someone@evil.example", "Mylapore Bcc: someone@evil.example"),
        ("Mylapore\nX-Header: 1", "Mylapore X-Header: 1"),
        ("\u202eeroPalyM\u202c ready", "eroPalyM ready"),
        ("a\u2066b\u2069c\u200fd\x00e\x1bf", "abcdef"),
        ("தொகுதி — नमस्ते", "தொகுதி — नमस्ते"),
    ],
)
def test_a_header_value_keeps_no_line_break_nor_control_character(raw: str, clean: str) -> None:
    assert header_value(raw) == clean


def test_the_welcome_email_subject_is_cleaned_and_its_values_escaped() -> None:
    email = welcome.compose(
        mla_name="<b>Selvi</b>",
        constituency="Mylapore\r\nBcc: x@y.in",
        phone_numbers=["+914440001234"],
        language="hi",
        link="https://app.example.in/register?token=t",
    )

    assert "\r" not in email.subject and "\n" not in email.subject
    assert "&lt;b&gt;Selvi&lt;/b&gt;" in email.html and "<b>Selvi</b>" in email.text
    assert "स्वागत" in email.text


def test_a_reset_link_goes_to_the_site_the_person_signs_in_to() -> None:
    assert reset_link("https://app.example.in/", "t", "staff") == "https://app.example.in/app/reset?token=t"
    assert (
        reset_link("https://app.example.in", "t", "super_admin") == "https://app.example.in/admin/panel/reset?token=t"
    )
    assert invitation_link("https://app.example.in", "t") == "https://app.example.in/register?token=t"
