"""An office's team: invitations by email, roles, disabling, and the last admin kept."""

from __future__ import annotations

from typing import Any

import pytest

from support import Api, tenant_body, unique_number


@pytest.fixture(scope="module")
def admin(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def invite_staff(api: Api, admin: dict[str, Any], role: str = "staff") -> dict[str, Any]:
    email = f"staff{unique_number()[3:]}@example.in"
    response = api.request(
        "POST", "/api/users/invite", admin["token"], json={"email": email, "role": role, "full_name": "Kavitha"}
    )
    assert response.status_code == 201, response.text
    token = api.invite_token_for(email)
    session = api.http.post("/auth/register", json={"token": token, "password": "staff password 1"})
    assert session.status_code == 201, session.text
    return {**response.json()["data"], "token": session.json()["data"]["access_token"], "password": "staff password 1"}


def test_an_invited_staff_member_joins_and_works_on_complaints_but_not_the_team(
    api: Api, admin: dict[str, Any]
) -> None:
    staff = invite_staff(api, admin)

    assert staff["role"] == "staff" and staff["full_name"] == "Kavitha"
    assert api.request("GET", "/api/complaints", staff["token"]).status_code == 200
    assert api.request("GET", "/api/users", staff["token"]).status_code == 403
    team = api.request("GET", "/api/users", admin["token"]).json()["data"]
    assert {m["email"] for m in team} >= {admin["admin_email"], staff["email"]}


def test_inviting_an_email_that_has_a_login_is_a_conflict(api: Api, admin: dict[str, Any]) -> None:
    response = api.request("POST", "/api/users/invite", admin["token"], json={"email": admin["admin_email"]})
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "email"


def test_a_disabled_member_can_no_longer_sign_in_or_use_a_token(api: Api, admin: dict[str, Any]) -> None:
    staff = invite_staff(api, admin)

    response = api.request("PATCH", f"/api/users/{staff['id']}", admin["token"], json={"disabled": True})

    assert response.status_code == 200 and response.json()["data"]["disabled"] is True
    login = api.http.post("/auth/login", json={"email": staff["email"], "password": staff["password"]})
    assert login.status_code == 401
    assert api.request("GET", "/api/complaints", staff["token"]).status_code == 403


def test_the_last_admin_cannot_be_demoted_or_disabled(api: Api, admin: dict[str, Any]) -> None:
    for change in ({"role": "staff"}, {"disabled": True}):
        response = api.request("PATCH", f"/api/users/{admin['user_id']}", admin["token"], json=change)
        assert response.status_code == 409
        assert response.json()["error"]["details"][0]["reason"] == "last_admin"

    second = invite_staff(api, admin, role="mla_admin")
    demoted = api.request("PATCH", f"/api/users/{admin['user_id']}", second["token"], json={"role": "staff"})
    assert demoted.status_code == 200 and demoted.json()["data"]["role"] == "staff"
    # The demotion holds at once, whatever the old token says.
    assert api.request("GET", "/api/users", admin["token"]).status_code == 403
    restored = api.request("PATCH", f"/api/users/{admin['user_id']}", second["token"], json={"role": "mla_admin"})
    assert restored.status_code == 200


def test_another_office_cannot_see_or_change_a_member(api: Api, admin_token: str, admin: dict[str, Any]) -> None:
    body = tenant_body()
    api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    other = api.http.post("/auth/register", json={"token": invite, "password": "other password 1"}).json()["data"]

    response = api.request("PATCH", f"/api/users/{admin['user_id']}", other["access_token"], json={"disabled": True})

    assert response.status_code == 404
    assert admin["admin_email"] not in {
        m["email"] for m in api.request("GET", "/api/users", other["access_token"]).json()["data"]
    }


def test_an_invitation_sent_twice_under_one_key_adds_one_member_and_sends_one_email(
    api: Api, admin: dict[str, Any]
) -> None:
    email, key = f"twice{unique_number()[3:]}@example.in", {"Idempotency-Key": f"invite-{unique_number()}"}
    first, again = (
        api.request("POST", "/api/users/invite", admin["token"], json={"email": email}, headers=key) for _ in range(2)
    )

    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert len([m for m in api.outbox() if m.get("to") == email]) == 1
    other = api.request("POST", "/api/users/invite", admin["token"], json={"email": f"x{email}"}, headers=key)
    assert other.status_code == 201 and other.json()["data"]["id"] != first.json()["data"]["id"]
