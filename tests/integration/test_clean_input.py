"""Input that can never reach the database malformed, over the local gateway: a NUL (or any control
character) is refused at every edge with a 422 naming the field and changes nothing; numbers are
stored in ASCII digits and text composed (NFC); an invitation that fails leaves no login; the CSV
export fails before its first byte; an unexpected error is answered and the connection kept."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import unicodedata
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.responses import JSONResponse
from google.protobuf.json_format import MessageToJson
from livekit import api as lk

from local_stack.serve import serve_in_thread
from mla_core.adapters import Services, get_services
from mla_core.complaints import export
from mla_core.complaints.models import ComplaintFilters
from mla_core.core.errors import AppError, TransientError
from mla_core.core.names import stored_room_name
from mla_core.core.principal import OfficeUser
from mla_core.http.envelope import create_app, ok
from mla_core.identity import team
from support import Api, Inspector, tenant_body, unique_number

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DECOMPOSED = unicodedata.normalize("NFD", "கொசு தொல்லை அதிகம், தெருவில் குப்பை")  # vowel signs split in two


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["field"] == field, error


def walk_in(**overrides: Any) -> dict[str, Any]:
    return {"category": "water", "description": "No water for three days", "location": "Ward 3", **overrides}


# A NUL at each edge: refused, naming the field, nothing changed ------------------------------------


def test_an_invitation_with_a_nul_in_its_name_is_refused_leaves_no_login_and_keeps_the_connection(
    api: Api, office: dict[str, Any], inspect: Inspector
) -> None:
    email = f"nul{unique_number()[3:]}@example.in"

    answer = api.request("POST", "/api/users/invite", office["token"], json={"email": email, "full_name": "A\x00B"})

    refused(answer, "full_name")
    assert inspect.auth_users(email) == []
    assert inspect.sql("SELECT 1 FROM platform.users WHERE email = %s", email) == []
    # The same keep-alive connection answers the next request (the server used to close it).
    assert api.request("GET", "/api/users", office["token"]).status_code == 200


def test_the_team_page_refuses_a_nul_as_a_page_in_the_readers_language(
    stack: Any, office: dict[str, Any], inspect: Inspector
) -> None:
    email = f"nulpage{unique_number()[3:]}@example.in"
    cookies = f"mla_session={office['token']}; mla_lang=ta; mla_csrf=c"
    with httpx.Client(base_url=stack.env["API_URL"], headers={"Cookie": cookies}) as browser:
        page = browser.post("/app/team/invite", data={"csrf": "c", "email": email, "full_name": "A\x00B"})

    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "full_name" in page.text and "கட்டுப்பாட்டு எழுத்து" in page.text
    assert inspect.auth_users(email) == []


def test_a_tenant_request_with_a_nul_is_refused_and_makes_no_tenant(
    api: Api, admin_token: str, inspect: Inspector
) -> None:
    body = tenant_body(mla_name="K.\x00Selvi")

    refused(api.request("POST", "/admin/tenants", admin_token, json=body), "mla_name")
    assert inspect.sql("SELECT 1 FROM platform.tenants WHERE admin_email = %s", body["admin_email"]) == []


def test_a_walk_in_complaint_with_a_nul_is_refused_and_stores_nothing(
    api: Api, office: dict[str, Any], inspect: Inspector
) -> None:
    caller = unique_number()

    answer = api.request(
        "POST", "/api/complaints", office["token"], json=walk_in(location="Ward\x003", caller_number=caller)
    )

    refused(answer, "location")
    schema = f"tenant_{office['tenant_id']}"
    assert inspect.sql(f"SELECT 1 FROM {schema}.complaints WHERE caller_number = %s", caller) == []  # noqa: S608


def test_a_nul_in_a_query_or_path_is_refused_before_the_database_sees_it(api: Api, office: dict[str, Any]) -> None:
    token = office["token"]

    refused(api.request("GET", "/api/complaints", token, params={"status": "\x00"}), "status")
    refused(api.request("GET", "/api/complaints", token, params={"q": "water\x00"}), "q")
    refused(api.request("GET", "/api/complaints/export.csv", token, params={"q": "\x00"}), "q")
    refused(api.request("GET", "/api/complaints/12%0034", token), "path")
    refused(api.request("GET", "/admin/tenants", token, params={"q": "\x7f"}), "q")


# Digits and composed text -------------------------------------------------------------------------


def test_full_width_digits_are_stored_as_plain_e164(api: Api, admin_token: str, office: dict[str, Any]) -> None:
    number = unique_number()
    typed = number[:3] + number[3:].translate(FULL_WIDTH)
    tenant = api.create_tenant(admin_token, tenant_body(phone_numbers=[typed]))
    assert tenant["status"] == "active" and tenant["phone_numbers"] == [number]

    caller = unique_number()
    typed_caller = caller[:3] + caller[3:].translate(FULL_WIDTH)
    created = api.request("POST", "/api/complaints", office["token"], json=walk_in(caller_number=typed_caller))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["caller_number"] == caller

    extra = unique_number()
    agent = api.request(
        "POST",
        "/api/agents",
        office["token"],
        json={"name": "Helpline", "phone_numbers": [extra.translate(FULL_WIDTH)]},
    )
    assert agent.status_code == 201, agent.text
    assert agent.json()["data"]["phone_numbers"] == [extra]


def test_decomposed_tamil_is_stored_composed_and_found_either_way(api: Api, office: dict[str, Any]) -> None:
    composed = unicodedata.normalize("NFC", DECOMPOSED)
    assert composed != DECOMPOSED

    created = api.request("POST", "/api/complaints", office["token"], json=walk_in(description=DECOMPOSED))

    assert created.status_code == 201, created.text
    assert created.json()["data"]["description"] == composed
    for typed in (DECOMPOSED, composed):
        found = api.request("GET", "/api/complaints", office["token"], params={"q": typed.split()[0]}).json()["data"]
        assert created.json()["data"]["reference"] in [row["reference"] for row in found["items"]]


# An invitation that fails after its login was made ------------------------------------------------


def test_an_invitation_whose_email_fails_removes_the_login_it_made(
    stack: Any, office: dict[str, Any], inspect: Inspector
) -> None:
    settings = get_services().settings.model_copy(update={"ses_from_email": "nobody@unverified.example"})
    services = Services(settings)  # SES refuses a sender it has not verified: the email step really fails
    who = OfficeUser(
        user_id=office["user_id"], email=office["admin_email"], role="mla_admin", tenant_id=office["tenant_id"]
    )
    email = f"nomail{unique_number()[3:]}@example.in"

    with pytest.raises(AppError):
        team.invite(services, who, team.Invite(email=email, full_name="Kavitha"))

    assert inspect.auth_users(email) == []
    assert inspect.sql("SELECT 1 FROM platform.users WHERE email = %s", email) == []
    invited = team.invite(get_services(), who, team.Invite(email=email, full_name="Kavitha"))  # sent again: works
    # Invited: a member row and a link, and no Supabase Auth login until the invitation is accepted.
    assert invited["email"] == email and invited["invited"] and inspect.auth_users(email) == []
    assert len(inspect.sql("SELECT 1 FROM platform.users WHERE email = %s", email)) == 1


# The CSV export -------------------------------------------------------------------------------------


def test_the_csv_export_runs_its_query_before_the_first_byte(office: dict[str, Any], postgres_down: None) -> None:
    with pytest.raises(TransientError):
        export.export_rows(get_services(), office["tenant_id"], ComplaintFilters(), "en", str)  # no line handed out yet


# The webhook: the signature first, then the event's text ----------------------------------------------


def signed(body: str, env: dict[str, str]) -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = lk.AccessToken(env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"]).with_sha256(digest).to_jwt()
    return {"Content-Type": "application/webhook+json", "Authorization": token}


def test_the_webhook_checks_the_signature_before_the_text_and_stores_ascii_digits(
    api: Api, stack: Any, office: dict[str, Any], inspect: Inspector
) -> None:
    caller = unique_number()
    room = lk.Room(name=f"mla-{office['tenant_id']}-call_{caller}_{secrets.token_hex(3)}")
    sip = lk.ParticipantInfo(
        identity=f"sip_{caller}",
        kind=lk.ParticipantInfo.Kind.SIP,
        attributes={
            "sip.phoneNumber": caller.translate(FULL_WIDTH),
            "sip.trunkPhoneNumber": office["phone_numbers"][0],
        },
    )
    joined = MessageToJson(
        lk.WebhookEvent(
            event="participant_joined",
            id=f"EV_{secrets.token_hex(8)}",
            created_at=int(time.time()),
            room=room,
            participant=sip,
        )
    )
    nul = MessageToJson(lk.WebhookEvent(event="room_started", id=f"EV_{secrets.token_hex(8)}\x00", room=room))

    assert (
        api.http.post(
            "/webhooks/livekit", content=nul, headers={**signed(nul, stack.env), "Authorization": "forged"}
        ).status_code
        == 401
    )
    assert api.http.post("/webhooks/livekit", content=nul, headers=signed(nul, stack.env)).status_code == 400
    assert api.http.post("/webhooks/livekit", content=joined, headers=signed(joined, stack.env)).status_code == 200
    schema = f"tenant_{office['tenant_id']}"
    [(stored,)] = inspect.sql(
        f"SELECT caller_number FROM {schema}.calls WHERE room_name = %s",  # noqa: S608
        stored_room_name(room.name),
    )
    assert stored == caller


# An unexpected error through a real server ------------------------------------------------------------


@pytest.fixture
def failing_server() -> Iterator[str]:
    app = create_app(title="failing", description="")

    @app.get("/broken")
    def broken() -> JSONResponse:
        raise RuntimeError("an error no one expected")

    @app.get("/fine")
    def fine() -> JSONResponse:
        return ok("fine")

    with serve_in_thread(app) as served:
        yield served.url


def test_an_unexpected_error_is_a_500_in_the_envelope_and_the_connection_stays_open(failing_server: str) -> None:
    with httpx.Client(base_url=failing_server) as client:
        for _ in range(3):
            broken = client.get("/broken")
            assert broken.status_code == 500 and broken.json()["error"]["code"] == "internal_error"
            assert client.get("/fine").json()["data"] == "fine"  # the same connection: not reset
