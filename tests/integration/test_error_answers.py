"""Every error a page or an API can answer comes back in its own shape (issue 12, item 11): the error
page under the pages' CSP for a page, the envelope for an API; and the pages' CSP lets the browser
reach only our origin and the configured LiveKit server."""

from __future__ import annotations

from typing import Any

import pytest

from mla_core.core.settings import get_settings
from mla_core.web.rendering import content_security_policy, page_policy
from support import Api

SITES = ["/app", "/admin/panel"]
TOO_MANY_FIELDS = "&".join(f"f{n}=x" for n in range(1100))
MULTIPART = {"Content-Type": "multipart/form-data; boundary=b"}
MULTIPART_BODY = '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx\r\n--b--\r\n'

# (method, path under the site, status, what else is sent)
PAGE_PROBES: list[tuple[str, str, int, dict[str, Any]]] = [
    ("PUT", "/login", 405, {}),
    ("DELETE", "/login", 405, {}),
    ("PATCH", "/logout", 405, {}),
    ("OPTIONS", "/login", 405, {}),
    ("GET", "/logout", 405, {}),
    ("POST", "/static/app.css", 405, {}),
    ("GET", "/no-such-page", 404, {}),
    ("GET", "/static/no-such.css", 404, {}),
    (
        "POST",
        "/login",
        400,
        {"content": TOO_MANY_FIELDS, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ),
    ("POST", "/login", 422, {"content": MULTIPART_BODY, "headers": MULTIPART}),  # the edge refuses multipart
    ("POST", "/login", 403, {"content": "{}", "headers": {"Content-Type": "application/json"}}),
]
# Asked of a static file, these are answered with the whole file: nothing of ours needs a range.
RANGES = ["bytes=99999999-", "lines=1-2", "bytes=5-1"]

# (method, path, status, what else is sent, signed in as the super admin)
API_PROBES: list[tuple[str, str, int, dict[str, Any], bool]] = [
    ("PUT", "/api/complaints", 405, {}, False),
    ("DELETE", "/auth/login", 405, {}, False),
    ("OPTIONS", "/admin/tenants", 405, {}, False),
    ("GET", "/webhooks/livekit", 405, {}, False),
    ("POST", "/docs", 405, {}, False),
    ("GET", "/api/no-such-route", 404, {}, False),
    ("GET", "/admin/no-such-route", 404, {}, False),
    ("GET", "/docs/assets/no-such-file.js", 404, {}, False),
    ("GET", "/admin/tenants/NOT-AN-ID", 422, {}, True),
    ("POST", "/auth/login", 422, {"content": "{not json", "headers": {"Content-Type": "application/json"}}, False),
    ("POST", "/auth/login", 422, {"content": MULTIPART_BODY, "headers": MULTIPART}, False),
    (
        "POST",
        "/auth/login",
        422,
        {"content": TOO_MANY_FIELDS, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        False,
    ),
]


@pytest.mark.parametrize(("method", "path", "status", "sent"), PAGE_PROBES)
@pytest.mark.parametrize("site", SITES)
def test_a_page_error_is_the_error_page(
    site: str, method: str, path: str, status: int, sent: dict[str, Any], api: Api
) -> None:
    response = api.http.request(method, site + path, **sent)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    assert response.headers["content-security-policy"] == page_policy()
    if method != "HEAD":
        assert '<p class="error">' in response.text


@pytest.mark.parametrize("sent_range", RANGES)
@pytest.mark.parametrize("site", SITES)
def test_a_static_file_asked_for_a_range_is_sent_whole(site: str, sent_range: str, api: Api) -> None:
    whole = api.http.get(f"{site}/static/app.css")
    response = api.http.get(f"{site}/static/app.css", headers={"Range": sent_range})
    assert response.status_code == 200
    assert response.content == whole.content


@pytest.mark.parametrize("sent_range", RANGES)
def test_a_docs_asset_asked_for_a_range_is_sent_whole(sent_range: str, api: Api) -> None:
    response = api.http.get("/docs/assets/swagger-ui.css", headers={"Range": sent_range})
    assert response.status_code == 200
    assert response.content == api.http.get("/docs/assets/swagger-ui.css").content


@pytest.mark.parametrize(("method", "path", "status", "sent", "signed_in"), API_PROBES)
def test_an_api_error_is_the_envelope(
    method: str, path: str, status: int, sent: dict[str, Any], signed_in: bool, api: Api, admin_token: str
) -> None:
    response = api.request(method, path, admin_token if signed_in else None, **sent)
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["success"] is False and body["error"]["code"], body


def test_the_pages_csp_reaches_only_our_origin_and_the_livekit_server() -> None:
    policy = content_security_policy(livekit_url="wss://office-abc.livekit.cloud")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["connect-src"] == "'self' https://office-abc.livekit.cloud wss://office-abc.livekit.cloud"
    assert directives["media-src"] == "'self' https://office-abc.livekit.cloud"
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert "https:" not in policy.split() and "wss:" not in policy.split()


def test_the_live_updates_websocket_is_the_other_origin_allowed_to_connect_exactly() -> None:
    policy = content_security_policy(
        livekit_url="wss://lk.example.in", live_updates_url="wss://abc.execute-api.ap-south-1.amazonaws.com/live"
    )
    connect = next(d for d in policy.split(";") if d.strip().startswith("connect-src"))
    assert connect.split()[1:] == [
        "'self'",
        "https://lk.example.in",
        "wss://lk.example.in",
        "wss://abc.execute-api.ap-south-1.amazonaws.com",
    ]
    local = content_security_policy(livekit_url="", live_updates_url="ws://127.0.0.1:8007/live")
    assert "connect-src 'self' ws://127.0.0.1:8007;" in local
    for refused in ("https://live.example.in", "wss://x y", "wss://a.example.in; script-src *"):
        assert content_security_policy(livekit_url="", live_updates_url=refused) == content_security_policy(
            livekit_url=""
        )


def test_the_running_pages_allow_the_local_live_updates_websocket(api: Api) -> None:
    origin = get_settings().live_updates_url.rsplit("/", 1)[0]
    assert origin.startswith("ws://127.0.0.1:")
    assert origin in api.http.get("/app/login").headers["content-security-policy"]


@pytest.mark.parametrize("url", ["", "not a url", "wss://a.example.in; script-src *", "wss://x y", "wss://user@"])
def test_a_livekit_url_that_is_no_plain_host_adds_nothing_to_the_policy(url: str) -> None:
    assert content_security_policy(livekit_url=url) == content_security_policy(livekit_url="")
    assert "connect-src 'self';" in content_security_policy(livekit_url=url)


def test_the_running_pages_use_the_configured_livekit_host(api: Api) -> None:
    host = get_settings().livekit_url.split("://", 1)[1].rstrip("/")
    policy = api.http.get("/app/login").headers["content-security-policy"]
    assert f"wss://{host}" in policy and f"https://{host}" in policy
