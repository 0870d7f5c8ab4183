"""Every route probed the way the security audit probed them, from the apps' own route lists, so that a
new route is probed without anyone remembering to: no sign-in, a signed-out session, the wrong role,
another office's ids, a page form without its CSRF token, SQL in every query parameter.

Two offices, A and B. B's people try A's complaint, member, agent, memory and erasure request by id on
every route that takes one; afterwards A's records are as they were. The counts of each kind of probe are printed (`-s`) and
quoted in the README's "Security" section.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.template import function
from mla_core.adapters import get_services
from mla_core.memory import memories
from support import Api

PROBES: Counter[str] = Counter()

# Routes anyone may call: sign-in and what leads to it, the docs.
PUBLIC_API = re.compile(r"^/auth/(login|register|refresh|recover|reset|invitations(/.*)?)$|^/(admin/)?(docs|openapi)")
PUBLIC_PAGES = re.compile(r"/(login|register|reset|recover|forgot)(/.*)?$|/lang/|/labels/|/static|/logout$|^/[a-z/]*/$")


def operations(function_name: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every route an API function's schema declares."""
    schema = function(function_name).import_module().app.openapi()
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def page_routes() -> list[tuple[str, str]]:
    """(method, path) of every page of both sites, with the site's prefix."""
    function("DashboardFunction").import_module()
    function("AdminFunction").import_module()
    import admin_panel
    import dashboard_pages

    routes = []
    for prefix, app in (("/app", dashboard_pages.pages), ("/admin/panel", admin_panel.panel)):
        for route in app.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    routes.append((method, prefix + route.path))  # type: ignore[attr-defined]
    return routes


API = [*operations("DashboardFunction"), *operations("AdminFunction")]
PAGES = page_routes()
SIGNED_IN_API = [(m, p) for m, p, _ in API if not PUBLIC_API.search(p)]
SIGNED_IN_PAGES = [(m, p) for m, p in PAGES if not PUBLIC_PAGES.search(p)]


@pytest.fixture(scope="module")
def offices(api: Api, admin_token: str) -> dict[str, dict[str, Any]]:
    """Offices A and B, each with its admin signed in; A with a complaint and its agent, B with a staffer."""
    a, b = api.office_admin(admin_token), api.office_admin(admin_token)
    email = f"staff.{b['tenant_id']}@probe.example.in"
    assert api.request("POST", "/api/users/invite", b["token"], json={"email": email}).status_code == 201
    staff = api.http.post("/auth/register", json={"token": api.invite_token_for(email), "password": "staff password 1"})
    b["staff_token"] = staff.json()["data"]["access_token"]
    complaint = api.request(
        "POST",
        "/api/complaints",
        a["token"],
        json={
            "category": "water",
            "description": "No drinking water in Ward 12",
            "location": "Ward 12",
            "language": "en",
            "caller_number": "+919876543210",
        },
    )
    assert complaint.status_code == 201, complaint.text
    a["complaint"] = complaint.json()["data"]
    a["agent"] = api.request("GET", "/api/agents", a["token"]).json()["data"][0]
    memory = {"user_id": "+919876543210", "slot": "ward", "text": "Ward 12", "infer": False}
    a["memory"] = api.request("POST", "/api/mem0/memories", a["token"], json=memory).json()["data"]["results"][0]
    inferred = {"user_id": "+919876543210", "messages": [{"role": "user", "content": "I am in ward 12"}]}
    a["event"] = api.request("POST", "/api/mem0/memories", a["token"], json=inferred).json()["data"]
    asked = memories.record_erasure_request(get_services(), a["tenant_id"], "+919876543210", call_id=None)
    a["erasure_request"] = {"id": str(asked.id)}
    meeting = {"kind": "janata_darbar", "title": "Darbar", "scheduled_at": "2027-01-05T10:00:00+05:30"}
    a["meeting"] = api.request("POST", "/api/meetings", a["token"], json=meeting).json()["data"]
    return {"a": a, "b": b}


def fill(path: str, office: dict[str, Any], tenant_id: str) -> str:
    """A route's path with office A's ids in it."""
    values = {
        "complaint": str(office["complaint"]["reference"]),
        "reference": str(office["complaint"]["reference"]),
        "user_id": office["user_id"],
        "agent_id": office["agent"]["agent_id"],
        "memory_id": office.get("memory", {}).get("id", "probe"),
        "event_id": office.get("event", {}).get("event_id", "probe"),
        "request_id": office.get("erasure_request", {}).get("id", "probe"),
        "meeting_id": office.get("meeting", {}).get("id", "probe"),
        "identity": "probe",
        "item_id": "00000000-0000-4000-8000-000000000000",
        "tenant_id": tenant_id,
        "token": "x" * 43,
        "lang": "en",
        "code": "en",
    }
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: values.get(m.group(1), "probe"), path)


NOBODY = {
    "complaint": {"reference": 99_999_999},
    "user_id": "00000000-0000-4000-8000-000000000000",
    "agent": {"agent_id": "nobody00000-main"},
    "memory": {"id": "00000000-0000-4000-8000-000000000000"},
    "erasure_request": {"id": "00000000-0000-4000-8000-000000000000"},
    "meeting": {"id": "00000000-0000-4000-8000-000000000000"},
}


def a_as_it_is(api: Api, a: dict[str, Any]) -> dict[str, Any]:
    complaint = api.request("GET", f"/api/complaints/{a['complaint']['reference']}", a["token"]).json()["data"]
    agent = api.request("GET", f"/api/agents/{a['agent']['agent_id']}", a["token"]).json()["data"]
    team = api.request("GET", "/api/users", a["token"]).json()["data"]
    remembered = api.request(
        "POST", "/api/mem0/memories/list", a["token"], json={"filters": {"user_id": "+919876543210"}}
    ).json()["data"]["items"]
    asked = api.request("GET", "/api/privacy/erasure-requests", a["token"]).json()["data"]["items"]
    meeting = api.request("GET", f"/api/meetings/{a['meeting']['id']}", a["token"]).json()["data"]
    return {
        "meeting": (meeting["version"], meeting["status"], len(meeting["participants"])),
        "memories": sorted((m["id"], m["memory"], m["updated_at"]) for m in remembered),
        "erasure_requests": sorted((r["id"], r["handled_at"]) for r in asked),
        "complaint": (complaint["version"], complaint["status"], len(complaint["timeline"])),
        "agent": (agent["version"], agent["status"]),
        "team": sorted((m["id"], m["role"], m["disabled"]) for m in team),
    }


@pytest.fixture(scope="module", autouse=True)
def _counts() -> Iterator[None]:
    yield
    print("\nsecurity probes:", dict(sorted(PROBES.items())))


def test_the_route_lists_are_what_we_probe() -> None:
    """A guard on the probes themselves: the apps' routes were found, and the public ones are few."""
    assert len(SIGNED_IN_API) >= 20 and len(SIGNED_IN_PAGES) >= 15
    public = [p for _, p, _ in API if PUBLIC_API.search(p)]
    assert all(p.startswith(("/auth/", "/docs", "/openapi", "/admin/docs", "/admin/openapi")) for p in public)


def test_every_signed_in_route_refuses_a_request_without_a_session(
    api: Api, offices: dict[str, dict[str, Any]]
) -> None:
    a = offices["a"]
    for method, path in SIGNED_IN_API:
        response = api.http.request(method, fill(path, a, a["tenant_id"]))
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["success"] is False
        PROBES["no session (API)"] += 1
    for method, path in SIGNED_IN_PAGES:
        response = api.http.request(method, fill(path, a, a["tenant_id"]), follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303 and "/login?next=" in response.headers["location"], (method, path)
        else:  # a form posted without a session has no CSRF cookie either
            assert response.status_code in (303, 403), (method, path, response.status_code)
        PROBES["no session (pages)"] += 1


def test_every_signed_in_route_refuses_a_signed_out_session(
    api: Api, stack: Any, offices: dict[str, dict[str, Any]]
) -> None:
    """An office admin's session signed out on the office's routes, a super admin's on the admin ones."""
    a = offices["a"]
    office = api.login(a["admin_email"], "office password 1")["access_token"]
    admin = api.login(stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])["access_token"]
    for token in (office, admin):
        assert api.request("POST", "/auth/logout", token).status_code == 200

    def token_for(path: str) -> str:
        return admin if path.startswith("/admin") else office

    for method, path in SIGNED_IN_API:
        response = api.request(method, fill(path, a, a["tenant_id"]), token_for(path))
        assert response.status_code == 401, (method, path, response.text)
        PROBES["signed-out session (API)"] += 1
    for method, path in SIGNED_IN_PAGES:
        headers = {"cookie": f"mla_session={token_for(path)}; mla_csrf=c"}
        data = {"csrf": "c"} if method == "POST" else None
        response = api.http.request(
            method, fill(path, a, a["tenant_id"]), headers=headers, data=data, follow_redirects=False
        )
        assert response.status_code == 303 and "/login" in response.headers["location"], (method, path)
        PROBES["signed-out session (pages)"] += 1


def test_the_wrong_role_is_refused_everywhere(api: Api, admin_token: str, offices: dict[str, dict[str, Any]]) -> None:
    a = offices["a"]
    for method, path in SIGNED_IN_API:
        if path.startswith("/admin/"):
            token, who = a["token"], "office admin on admin routes"
        elif path.startswith("/api/"):
            token, who = admin_token, "super admin on office routes"
        else:
            continue  # /auth/profile, /auth/logout: every role
        response = api.request(method, fill(path, a, a["tenant_id"]), token)
        assert response.status_code == 403, (method, path, response.text)
        PROBES[who] += 1
    for method, path in SIGNED_IN_PAGES:
        office_page = path.startswith("/app")
        token = admin_token if office_page else a["token"]
        headers = {"cookie": f"mla_session={token}; mla_csrf=c"}
        data = {"csrf": "c"} if method == "POST" else None
        response = api.http.request(
            method, fill(path, a, a["tenant_id"]), headers=headers, data=data, follow_redirects=False
        )
        assert response.status_code == 403, (method, path, response.status_code)
        PROBES["wrong role (pages)"] += 1


# A valid body for each office route that takes an id, so that only the id can refuse it.
BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/complaints/{complaint}"): None,
    ("PATCH", "/api/complaints/{complaint}"): {"version": 1, "status": "acknowledged"},
    ("POST", "/api/complaints/{complaint}/notes"): {"text": "probe"},
    ("GET", "/api/complaints/{complaint}/duplicate-check"): None,
    ("POST", "/api/complaints/{complaint}/undo-duplicate"): {"version": 1, "note": "probe"},
    ("PATCH", "/api/users/{user_id}"): {"disabled": True},
    ("POST", "/api/users/{user_id}/resend"): None,
    ("GET", "/api/agents/{agent_id}"): None,
    ("PUT", "/api/agents/{agent_id}"): {"version": 1, "name": "Probe"},
    ("PUT", "/api/agents/{agent_id}/status"): {"version": 1, "status": "paused"},
    ("DELETE", "/api/agents/{agent_id}"): None,
    ("GET", "/api/mem0/memories/{memory_id}"): None,
    ("PUT", "/api/mem0/memories/{memory_id}"): {"text": "Ward 99"},
    ("DELETE", "/api/mem0/memories/{memory_id}"): None,
    ("GET", "/api/mem0/memories/{memory_id}/history"): None,
    ("GET", "/api/mem0/events/{event_id}"): None,
    ("POST", "/api/privacy/erasure-requests/{request_id}/handled"): None,
    ("GET", "/api/meetings/{meeting_id}"): None,
    ("PUT", "/api/meetings/{meeting_id}"): {"title": "Probe"},
    ("DELETE", "/api/meetings/{meeting_id}"): None,
    ("POST", "/api/meetings/{meeting_id}/cancel"): None,
    ("POST", "/api/meetings/{meeting_id}/start"): None,
    ("POST", "/api/meetings/{meeting_id}/end"): None,
    ("POST", "/api/meetings/{meeting_id}/token"): None,
    ("POST", "/api/meetings/{meeting_id}/participants/{identity}"): {"action": "remove"},
    ("POST", "/api/meetings/{meeting_id}/recording/stop"): None,
    ("GET", "/api/meetings/{meeting_id}/transcript"): None,
    ("GET", "/api/meetings/{meeting_id}/transcript.txt"): None,
    ("GET", "/api/meetings/{meeting_id}/transcript.vtt"): None,
    ("GET", "/api/meetings/{meeting_id}/summary"): None,
    ("POST", "/api/meetings/{meeting_id}/summary"): None,
    ("PATCH", "/api/meetings/{meeting_id}/items/{item_id}"): {"status": "dropped"},
    ("POST", "/api/meetings/{meeting_id}/items/{item_id}/complaint"): {"category": "water"},
}
# Routes for office admins only: B's staff is refused them (403) before any id is read.
ADMINS_ONLY = ("/api/users", "/api/agents", "/api/privacy")
# The query a route with an id needs besides it (so that only the id can refuse it).
QUERIES = {("GET", "/api/complaints/{complaint}/duplicate-check"): "?duplicate_of=1"}
PAGE_FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/app/complaints/{reference}/undo-duplicate"): {"note": "probe"},
    ("GET", "/app/complaints/{reference}"): {},
    ("POST", "/app/complaints/{reference}/change"): {"action": "note", "note": "probe"},
    ("POST", "/app/team/{user_id}"): {"disabled": "true"},
    ("POST", "/app/team/{user_id}/resend"): {},
    ("POST", "/app/agents/{agent_id}"): {"status": "paused", "version": "1"},
    ("POST", "/app/agents/{agent_id}/test-call"): {},
    ("GET", "/app/complaints/{reference}/caller"): {},
    ("POST", "/app/complaints/{reference}/caller/{memory_id}"): {"text": "Ward 99"},
    ("POST", "/app/complaints/{reference}/caller/{memory_id}/delete"): {"confirm": "delete"},
    ("POST", "/app/privacy/erasure-requests/{request_id}/handled"): {},
    ("GET", "/app/meetings/{meeting_id}"): {},
    ("GET", "/app/meetings/{meeting_id}/segments"): {},
    ("GET", "/app/meetings/{meeting_id}/edit"): {},
    ("POST", "/app/meetings/{meeting_id}/edit"): {
        "title": "Probe",
        "date": "2027-01-05",
        "time": "10:00",
        "version": "1",
    },
    ("POST", "/app/meetings/{meeting_id}/start"): {},
    ("POST", "/app/meetings/{meeting_id}/end"): {"confirm": "end"},
    ("POST", "/app/meetings/{meeting_id}/cancel"): {"confirm": "cancel"},
    ("POST", "/app/meetings/{meeting_id}/delete"): {"confirm": "delete"},
    ("POST", "/app/meetings/{meeting_id}/recording/stop"): {"confirm": "stop"},
    ("POST", "/app/meetings/{meeting_id}/participants/{identity}"): {"action": "remove", "confirm": "remove"},
    ("POST", "/app/meetings/{meeting_id}/token"): {},
    ("GET", "/app/meetings/{meeting_id}/transcript"): {},
    ("GET", "/app/meetings/{meeting_id}/transcript.txt"): {},
    ("GET", "/app/meetings/{meeting_id}/transcript.vtt"): {},
}


def test_another_office_reaches_nothing_of_ours_by_id(api: Api, offices: dict[str, dict[str, Any]]) -> None:
    a, b = offices["a"], offices["b"]
    before = a_as_it_is(api, a)
    with_ids = [(m, p) for m, p in SIGNED_IN_API if p.startswith("/api/") and "{" in p]
    assert set(with_ids) <= set(BODIES), f"add a body for {set(with_ids) - set(BODIES)}"
    by_id = {**a, "complaint": {"reference": a["complaint"]["id"]}}  # a complaint by its id as well
    for method, path in with_ids:
        for office in (a, by_id) if "{complaint}" in path else (a,):
            for token in (b["token"], b["staff_token"]):
                url = fill(path, office, a["tenant_id"]) + QUERIES.get((method, path), "")
                response = api.request(method, url, token, json=BODIES[(method, path)])
                assert response.status_code in (403, 404), (method, path, response.text)
                assert response.status_code == 404 or path.startswith(ADMINS_ONLY) or path.endswith("/undo-duplicate")
                PROBES["another office's ids (API)"] += 1
    pages_with_ids = [(m, p) for m, p in SIGNED_IN_PAGES if p.startswith("/app/") and "{" in p]
    assert set(pages_with_ids) <= set(PAGE_FORMS), f"add a form for {set(pages_with_ids) - set(PAGE_FORMS)}"
    headers = {"cookie": f"mla_session={b['token']}; mla_csrf=c"}
    for method, path in pages_with_ids:
        data = {**PAGE_FORMS[(method, path)], "csrf": "c"} if method == "POST" else None
        response = api.http.request(
            method, fill(path, a, a["tenant_id"]), headers=headers, data=data, follow_redirects=False
        )
        made_up = api.http.request(method, fill(path, NOBODY, a["tenant_id"]), headers=headers, data=data)
        # The answer an id of nothing gets: 404, or the test call's 409 where no real LiveKit is configured.
        assert response.status_code == made_up.status_code in (404, 409), (method, path, response.status_code)
        PROBES["another office's ids (pages)"] += 1
    assert a_as_it_is(api, a) == before


def test_a_page_form_without_its_csrf_token_changes_nothing(api: Api, offices: dict[str, dict[str, Any]]) -> None:
    a = offices["a"]
    before = a_as_it_is(api, a)
    posts = [p for m, p in SIGNED_IN_PAGES if m == "POST" and p.startswith("/app/")]
    for path in posts:
        for headers, data in (
            ({"cookie": f"mla_session={a['token']}"}, {}),  # no CSRF cookie, no token
            ({"cookie": f"mla_session={a['token']}; mla_csrf=c"}, {}),  # the cookie but no token
            ({"cookie": f"mla_session={a['token']}; mla_csrf=c"}, {"csrf": "d"}),  # another token
        ):
            form = {**PAGE_FORMS.get(("POST", path), {}), **data}
            response = api.http.post(fill(path, a, a["tenant_id"]), headers=headers, data=form, follow_redirects=False)
            assert response.status_code == 403, (path, response.status_code)
            PROBES["CSRF (pages)"] += 1
    assert a_as_it_is(api, a) == before


SQL_PROBES = ["' OR '1'='1", "1; DROP SCHEMA platform CASCADE --", '") UNION SELECT * FROM platform.users --', "%' --"]


def test_sql_in_every_query_parameter_is_only_ever_data(api: Api, offices: dict[str, dict[str, Any]]) -> None:
    """B's office, SQL in each string query parameter of every GET route: never a 5xx, never A's data."""
    a, b = offices["a"], offices["b"]
    for method, path, operation in API:
        if method != "GET" or not path.startswith("/api/") or "{" in path:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in names:
            for probe in SQL_PROBES:
                response = api.request("GET", path, b["token"], params={name: probe})
                assert response.status_code in (200, 422), (path, name, probe, response.text)
                assert a["complaint"]["description"] not in response.text
                assert a["admin_email"] not in response.text
                PROBES["SQL in query parameters"] += 1
    assert a_as_it_is(api, a)["complaint"] is not None
