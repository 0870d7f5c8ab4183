"""Each app's own OpenAPI schema, held to what the app does: generated requests never make a 5xx, and
every answer (generated or real) has the shape the schema declares for its status, `data` included.
Generated requests are also spiked with what no edge may let through (control characters, lone
surrogates) or must normalise (full-width and Devanagari digits, decomposed text): the first are
refused with a 422 naming where they were, the others never make a 5xx."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from google.protobuf.json_format import MessageToJson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from livekit import api as lk

from support import Api, tenant_body, unique_number

FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def office_token(api: Api, admin_token: str) -> str:
    body = tenant_body()
    api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    registered = api.http.post("/auth/register", json={"token": invite, "password": "fuzz password 1"})
    return str(registered.json()["data"]["access_token"])


@pytest.fixture(scope="module")
def dashboard_schema(stack: Any) -> Any:
    from local_stack.template import app_of

    return schemathesis.openapi.from_asgi("/openapi.json", app_of("DashboardFunction"))


@pytest.fixture(scope="module")
def admin_schema(stack: Any, admin_token: str) -> Any:
    from local_stack.template import app_of

    signed_in = {"Authorization": f"Bearer {admin_token}"}  # the admin API's schema is for super admins
    return schemathesis.openapi.from_asgi("/admin/openapi.json", app_of("AdminFunction"), headers=signed_in)


@pytest.fixture(scope="module")
def webhooks_schema(stack: Any) -> Any:
    from local_stack.template import app_of

    return schemathesis.openapi.from_asgi("/webhooks/openapi.json", app_of("WebhooksFunction"))


# Refused by every edge: C0 and C1 controls, DEL, lone surrogates (these only in JSON: no URL holds one).
REFUSED = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"]
SURROGATES = ["\ud800", "\udfff"]
# Normalised, never refused: full-width and Devanagari digits, a decomposed "é" and Tamil "கொ".
NORMALISED = ["０", "९", "e\u0301", "\u0b95\u0bc6\u0bbe"]


@st.composite
def spiked(draw: st.DrawFn, operation: Any) -> tuple[Any, str | None]:
    """A generated case with one of the characters above put into one of its strings (path, query or
    JSON body); returns the case and the character, or None when the case has no string to spike."""
    case = draw(operation.as_strategy())
    places: list[tuple[Any, Any, bool]] = []  # (container, key, in JSON)
    for params in (case.path_parameters, case.query):
        places += [(params, name, False) for name, value in (params or {}).items() if isinstance(value, str | int)]
        places += [
            (value, i, False) for value in (params or {}).values() if isinstance(value, list) for i in range(len(value))
        ]
    stack = [case.body] if isinstance(case.body, dict | list) else []
    while stack:
        node = stack.pop()
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, dict | list):
                stack.append(value)
            elif isinstance(value, str):
                places.append((node, key, True))
    if not places:
        return case, None
    container, key, in_json = draw(st.sampled_from(places))
    char = draw(st.sampled_from(REFUSED + NORMALISED + (SURROGATES if in_json else [])))
    text = str(container[key])
    at = draw(st.integers(0, len(text)))
    container[key] = text[:at] + char + text[at:]
    return case, char


def fuzz(schema: Any, token: str, *, spike: bool = False) -> list[str]:
    """Run every operation of `schema` with generated cases (spiked with `spike`); returns the
    operations exercised."""
    exercised = []
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = spiked(operation) if spike else operation.as_strategy().map(lambda case: (case, None))

        @FUZZ
        @given(generated=cases)
        def run(generated: tuple[Any, str | None]) -> None:
            case, char = generated
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            content_type = (response.headers.get("content-type") or [""])[0]
            assert content_type.startswith(("application/json", "text/csv")), (case.formatted_path, content_type)
            if content_type.startswith("application/json"):
                case.operation.validate_response(response, case=case)
            if char is not None and char not in NORMALISED:
                assert response.status_code == 422, (case.method, case.formatted_path, repr(char), response.text)
                [detail] = response.json()["error"]["details"]
                assert detail["field"], detail  # named as every validation error names it (`status`, `phone_numbers.0`)

        run()
        exercised.append(f"{operation.method.upper()} {operation.path}")
    return exercised


def test_the_dashboard_api_never_answers_5xx(dashboard_schema: Any, office_token: str) -> None:
    assert "PATCH /api/complaints/{complaint}" in fuzz(dashboard_schema, office_token)


def test_the_admin_api_never_answers_5xx(admin_schema: Any, admin_token: str) -> None:
    assert "POST /admin/tenants" in fuzz(admin_schema, admin_token)


def test_the_dashboard_api_refuses_control_characters_and_never_answers_5xx(
    dashboard_schema: Any, office_token: str
) -> None:
    assert "POST /api/users/invite" in fuzz(dashboard_schema, office_token, spike=True)


def test_the_admin_api_refuses_control_characters_and_never_answers_5xx(admin_schema: Any, admin_token: str) -> None:
    assert "POST /admin/tenants" in fuzz(admin_schema, admin_token, spike=True)


# Real answers, each held to its route's declared model -------------------------------------------


@pytest.fixture(scope="module")
def checked(stack: Any, dashboard_schema: Any, admin_schema: Any, webhooks_schema: Any) -> Iterator[Api]:
    """An `Api` whose every response is validated against the schema of the app that answered it
    (the local stack's own `/local/…` routes are not part of the product)."""

    def conforms(response: httpx.Response) -> None:
        path = response.request.url.path
        if path.startswith("/local/"):
            return
        response.read()
        schema = (
            admin_schema
            if path.startswith("/admin/")
            else webhooks_schema
            if path.startswith("/webhooks/")
            else dashboard_schema
        )
        operation = schema.find_operation_by_path(response.request.method, path)
        assert operation is not None, (response.request.method, path)
        operation.validate_response(response)

    client = Api.for_stack(stack)
    client.http.event_hooks["response"].append(conforms)
    with client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def test_the_admin_apis_real_answers_match_their_models(checked: Api, admin_token: str) -> None:
    body = tenant_body()
    accepted = ok(checked.request("POST", "/admin/tenants", admin_token, json=body), 202)
    tenant = checked.wait_for(admin_token, accepted["tenant_id"], "active")
    waited = checked.request("POST", "/admin/tenants", admin_token, json=tenant_body(), params={"wait": "true"})
    assert waited.status_code in (201, 202), waited.text
    listed = ok(checked.request("GET", "/admin/tenants", admin_token, params={"limit": 1}))
    assert listed["next_cursor"] and len(listed["items"]) == 1
    ok(checked.request("GET", "/admin/tenants", admin_token, params={"cursor": listed["next_cursor"], "q": "Selvi"}))
    assert checked.request("POST", f"/admin/tenants/{tenant['tenant_id']}/retry", admin_token).status_code == 409
    assert checked.request("GET", "/admin/tenants/zzzzzzzzzz", admin_token).status_code == 404
    assert ok(checked.request("DELETE", f"/admin/tenants/{tenant['tenant_id']}", admin_token), 202)["status"] in (
        "deleting",
        "deleted",
    )
    assert checked.request("GET", "/admin/tenants").status_code == 401


def test_the_dashboard_apis_real_answers_match_their_models(checked: Api, admin_token: str) -> None:
    body = tenant_body()
    office = checked.create_tenant(admin_token, body)
    invite = checked.invite_token_for(body["admin_email"])
    session = ok(checked.http.post("/auth/register", json={"token": invite, "password": "real password 1"}), 201)
    token = ok(checked.http.post("/auth/login", json={"email": body["admin_email"], "password": "real password 1"}))[
        "access_token"
    ]
    ok(checked.http.post("/auth/refresh", json={"refresh_token": session["refresh_token"]}))
    assert ok(checked.request("GET", "/auth/profile", token))["tenant"]["tenant_id"] == office["tenant_id"]

    staff = ok(checked.request("POST", "/api/users/invite", token, json={"email": f"s{unique_number()[3:]}@x.in"}), 201)
    ok(checked.request("PATCH", f"/api/users/{staff['id']}", token, json={"disabled": True}))
    assert len(ok(checked.request("GET", "/api/users", token))) == 2
    assert checked.request("POST", "/api/users/invite", token, json={"email": body["admin_email"]}).status_code == 409

    walk_in = {
        "category": "streetlights",
        "description": "Three lights out on 4th cross",
        "location": "Ward 3",
        "caller_number": unique_number(),
        "language": "en",
    }
    complaint = ok(checked.request("POST", "/api/complaints", token, json=walk_in), 201)
    ref = complaint["reference"]
    ok(checked.request("PATCH", f"/api/complaints/{ref}", token, json={"version": 1, "status": "acknowledged"}))
    ok(checked.request("POST", f"/api/complaints/{ref}/notes", token, json={"text": "called back"}), 201)
    ok(checked.request("GET", f"/api/complaints/{ref}", token))
    ok(checked.request("GET", "/api/complaints", token, params={"limit": 1}))
    ok(checked.request("GET", "/api/stats", token))

    [main] = ok(checked.request("GET", "/api/agents", token))
    ok(checked.request("GET", f"/api/agents/{main['agent_id']}", token))
    added = ok(
        checked.request("POST", "/api/agents", token, json={"name": "Helpline", "phone_numbers": [unique_number()]}),
        201,
    )
    paused = ok(
        checked.request(
            "PUT",
            f"/api/agents/{added['agent_id']}/status",
            token,
            json={"status": "paused", "version": added["version"]},
        )
    )
    ok(checked.request("PUT", f"/api/agents/{added['agent_id']}", token, json={"version": paused["version"]}))
    assert ok(checked.request("DELETE", f"/api/agents/{added['agent_id']}", token))["deleted"] is True

    assert checked.request("POST", "/auth/logout", token).status_code == 200
    assert checked.request("POST", "/auth/login", json={"email": "nobody@x.in", "password": "x"}).status_code == 401


def signed(body: str, env: dict[str, str]) -> str:
    """The `Authorization` LiveKit sends: a JWT whose `sha256` claim is the body's digest."""
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return lk.AccessToken(env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"]).with_sha256(digest).to_jwt()


def test_the_webhooks_real_answers_match_their_model(checked: Api, stack: Any, admin_token: str) -> None:
    tenant = checked.create_tenant(admin_token)
    room = lk.Room(name=f"mla-{tenant['tenant_id']}-call_{unique_number()}_{secrets.token_hex(3)}")
    event = lk.WebhookEvent(
        event="room_started", id=f"EV_{secrets.token_hex(8)}", created_at=int(time.time()), room=room
    )
    body = MessageToJson(event)

    def post(body: str, authorization: str) -> httpx.Response:
        headers = {"Content-Type": "application/webhook+json", "Authorization": authorization}
        return checked.http.post("/webhooks/livekit", content=body, headers=headers)

    assert ok(post(body, signed(body, stack.env)))["outcome"] == "applied"
    assert ok(post(body, signed(body, stack.env)))["outcome"] == "duplicate"
    assert post(body, "not-a-jwt").status_code == 401
    assert post("{}", signed("{}", stack.env)).status_code == 400
