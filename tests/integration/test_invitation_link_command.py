"""`make invitation EMAIL=…` (`python -m mla_core.cli invitation-link`) against the local stack's outbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mla_core import cli
from support import Api, tenant_body


def test_the_new_offices_admin_gets_a_link_that_opens_their_invitation(
    api: Api, admin_token: str, stack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tenant_body()
    api.create_tenant(admin_token, body)

    code = cli.main(["invitation-link", body["admin_email"], "--api", stack.env["API_URL"]])

    link = capsys.readouterr().out.strip()
    assert code == 0 and link.startswith(f"{stack.env['DASHBOARD_URL']}/register?token=")
    token = httpx.URL(link).params["token"]
    assert token == api.invite_token_for(body["admin_email"])
    registered = api.http.post("/auth/register", json={"token": token, "password": "a strong passphrase"})
    assert registered.status_code == 201, registered.text


def test_an_address_without_an_invitation_and_a_stack_that_is_not_running_say_so_in_one_line(
    stack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invitation-link", "nobody@example.in", "--api", stack.env["API_URL"]]) == 1
    assert capsys.readouterr().err.startswith("no invitation to nobody@example.in in ")

    assert cli.main(["invitation-link", "nobody@example.in", "--api", "http://127.0.0.1:9"]) == 1
    assert "is `make dev` running?" in capsys.readouterr().err
