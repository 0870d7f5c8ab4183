"""`python -m mla_core.cli invitation-link EMAIL`: the link found in the local outbox's mail."""

from __future__ import annotations

from pathlib import Path

from mla_core.cli import DEFAULT_LOCAL_API, invitation_link_in, local_api_url


def email(to: str, body: str) -> dict[str, str]:
    return {"channel": "email", "to": to, "subject": "Welcome", "body": body}


def test_the_newest_invitation_to_the_address_is_found_in_its_html() -> None:
    outbox = [
        {"channel": "sms", "to": "+919876543210", "body": "http://127.0.0.1:8000/register?token=not-mail"},
        email("someone@else.in", '<a href="http://127.0.0.1:8000/register?token=theirs">Accept</a>'),
        email("Office@Selvi.example.in", '<a href="http://127.0.0.1:8000/register?token=new_-Tok3n">Accept</a>'),
        email("office@selvi.example.in", '<a href="http://127.0.0.1:8000/register?token=older">Accept</a>'),
    ]

    link = invitation_link_in(outbox, "office@selvi.example.in")

    assert link == "http://127.0.0.1:8000/register?token=new_-Tok3n"


def test_an_escaped_link_is_given_as_a_browser_opens_it_and_no_invitation_is_none() -> None:
    body = "<p>Set your password: http://127.0.0.1:8000/register?token=a%2Bb&amp;x=1</p>"
    assert invitation_link_in([email("a@b.in", body)], "a@b.in") == "http://127.0.0.1:8000/register?token=a%2Bb"
    assert invitation_link_in([email("a@b.in", "<p>Your complaint export is ready.</p>")], "a@b.in") is None


def test_the_local_stack_is_found_from_api_url_then_dev_env_then_the_default(tmp_path: Path) -> None:
    assert local_api_url({"API_URL": "http://127.0.0.1:9000"}) == "http://127.0.0.1:9000"
    assert local_api_url({"MLA_LOCAL_DIR": str(tmp_path)}) == DEFAULT_LOCAL_API
    (tmp_path / "dev.env").write_text("DATABASE_URL=postgresql://x\nAPI_URL=http://127.0.0.1:38100\n")
    assert local_api_url({"MLA_LOCAL_DIR": str(tmp_path)}) == "http://127.0.0.1:38100"
