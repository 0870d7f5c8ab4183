"""The admin API's contract: envelope, validation, idempotency, conflicts, listing, deletion."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from psycopg import sql

from support import Api, Inspector, invoke_lambda, tenant_body, unique_number


def count_tenants(inspect: Inspector) -> int:
    return inspect.sql("SELECT count(*) FROM platform.tenants")[0][0]


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"phone_numbers": ["50000 12345"]}, "phone_numbers.0", "Indian phone number"),
        ({"languages": ["ta", "xx"]}, "languages.1", "unsupported language"),
        ({"mla_name": None}, "mla_name", ""),
        ({"state": "Narnia"}, "state", "state or union territory"),
        ({"greeting": "x" * 501}, "greeting", "at most 500"),
        ({"owner": "someone"}, "owner", "unknown field"),
        ({"admin_email": "nope"}, "admin_email", "email"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    overrides: dict[str, Any], field: str, reason: str, api: Api, admin_token: str, inspect: Inspector
) -> None:
    before = count_tenants(inspect)
    body = {k: v for k, v in tenant_body(**overrides).items() if v is not None}

    response = api.request("POST", "/admin/tenants", admin_token, json=body)

    assert response.status_code == 422
    error = response.json()
    assert error["success"] is False and error["error"]["code"] == "validation_error"
    details = {d["field"]: d["reason"] for d in error["error"]["details"]}
    assert field in details and reason in details[field]
    assert count_tenants(inspect) == before


def test_a_body_that_is_not_json_is_a_validation_error(api: Api, admin_token: str) -> None:
    response = api.request(
        "POST", "/admin/tenants", admin_token, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["success"] is False


def test_a_number_owned_by_another_tenant_is_a_conflict(api: Api, admin_token: str, inspect: Inspector) -> None:
    taken = unique_number()
    api.create_tenant(admin_token, tenant_body(phone_numbers=[taken]), wait=False)
    before = count_tenants(inspect)

    response = api.request(
        "POST", "/admin/tenants", admin_token, json=tenant_body(phone_numbers=[unique_number(), taken])
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {
            "field": "phone_numbers.1",
            "reason": "already_taken",
            "value": taken,
            "message": "This phone number already belongs to an office.",
        }
    ]
    assert count_tenants(inspect) == before


def test_two_concurrent_requests_for_one_number_have_exactly_one_winner(api: Api, admin_token: str) -> None:
    number = unique_number()
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def request() -> None:
        with Api(str(api.http.base_url)) as own:
            barrier.wait()
            response = own.request("POST", "/admin/tenants", admin_token, json=tenant_body(phone_numbers=[number]))
            statuses.append(response.status_code)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202, 409, 409, 409]


def test_an_admin_email_with_a_login_already_is_a_conflict(api: Api, admin_token: str, stack: Any) -> None:
    response = api.request(
        "POST", "/admin/tenants", admin_token, json=tenant_body(admin_email=stack.env["SUPERADMIN_EMAIL"])
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "admin_email"


def test_an_idempotency_key_replays_the_first_result(api: Api, admin_token: str, inspect: Inspector) -> None:
    body = tenant_body()
    headers = {"Idempotency-Key": f"key-{unique_number()}"}
    first = api.request("POST", "/admin/tenants", admin_token, json=body, headers=headers)
    before = count_tenants(inspect)

    again = api.request("POST", "/admin/tenants", admin_token, json=body, headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_tenants(inspect) == before

    other = api.request("POST", "/admin/tenants", admin_token, json=tenant_body(), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_concurrent_requests_with_one_idempotency_key_create_one_tenant(
    api: Api, admin_token: str, inspect: Inspector
) -> None:
    body = tenant_body()
    headers = {"Idempotency-Key": f"race-{unique_number()}"}
    results: list[Any] = []
    barrier = threading.Barrier(3)

    def request() -> None:
        with Api(str(api.http.base_url)) as own:
            barrier.wait()
            results.append(own.request("POST", "/admin/tenants", admin_token, json=body, headers=headers))

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.status_code for r in results} == {202}
    assert len({r.json()["data"]["tenant_id"] for r in results}) == 1


def test_tenants_are_listed_newest_first_page_by_page_and_by_status(api: Api, admin_token: str) -> None:
    created = [api.create_tenant(admin_token, wait=False)["tenant_id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", "/admin/tenants", admin_token, params=params).json()["data"]
        assert len(page["items"]) <= 2
        seen += [t["tenant_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert seen[:3] == list(reversed(created))

    failed = api.request("GET", "/admin/tenants", admin_token, params={"status": "failed", "limit": 200})
    assert all(t["status"] == "failed" for t in failed.json()["data"]["items"])
    bad = api.request("GET", "/admin/tenants", admin_token, params={"cursor": "garbage!"})
    assert bad.status_code == 422


def test_an_unknown_tenant_is_not_found(api: Api, admin_token: str) -> None:
    response = api.request("GET", "/admin/tenants/zzzzzzzzzz", admin_token)
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"code": "not_found", "message": "tenant zzzzzzzzzz not found", "details": []},
    }


def test_deleting_a_tenant_removes_its_services_and_archives_its_data(
    api: Api, admin_token: str, inspect: Inspector, stack: Any
) -> None:
    body = tenant_body()
    tenant = api.create_tenant(admin_token, body)
    tenant_id = tenant["tenant_id"]
    inspect.sql(
        sql.SQL("INSERT INTO {}.complaints (reference, category, description) VALUES (1001, %s, %s)").format(
            sql.Identifier(f"tenant_{tenant_id}")
        ),
        "water",
        "No water for three days",
    )
    token = api.invite_token_for(body["admin_email"])
    registered = api.http.post("/auth/register", json={"token": token, "password": "a-long-password"})
    assert registered.status_code == 201, registered.text
    helpline = unique_number()  # an agent the office added answers it
    added = api.request(
        "POST",
        "/api/agents",
        registered.json()["data"]["access_token"],
        json={"name": "Helpline", "phone_numbers": [helpline]},
    )
    assert added.status_code == 201, added.text

    response = api.request("DELETE", f"/admin/tenants/{tenant_id}", admin_token)
    assert response.status_code == 202
    deleted = api.wait_for(admin_token, tenant_id, "deleted")

    assert deleted["archived_schema"] == f"archived_tenant_{tenant_id}"
    archived = sql.Identifier(f"archived_tenant_{tenant_id}")
    assert inspect.sql(sql.SQL("SELECT description FROM {}.complaints").format(archived)) == [
        ("No water for three days",)
    ]
    leftovers = inspect.leftovers({**deleted, "phone_numbers": [*body["phone_numbers"], helpline]})
    # The login is kept (disabled) for the audit trail, and the durable config stays with the data.
    assert set(leftovers) == {"auth_user", "agent_config_row", "user_row"}
    assert (
        api.http.post("/auth/login", json={"email": body["admin_email"], "password": "a-long-password"}).status_code
        == 401
    )
    # The numbers are free again.
    reuse = api.request("POST", "/admin/tenants", admin_token, json=tenant_body(phone_numbers=body["phone_numbers"]))
    assert reuse.status_code == 202, reuse.text


def test_the_lambda_handler_serves_the_admin_api_from_an_api_gateway_event(admin_token: str, stack: Any) -> None:
    """What API Gateway → Mangum → FastAPI does in AWS, called in-process with a real token."""
    import json
    from pathlib import Path

    from local_stack.template import function

    handler = function("AdminFunction").load()

    event = json.loads((Path(__file__).parents[2] / "sam/events/admin_create_tenant.json").read_text())
    event["headers"]["authorization"] = f"Bearer {admin_token}"
    event["body"] = json.dumps(tenant_body())
    event["isBase64Encoded"] = False

    response = invoke_lambda(handler, event, "AdminFunction")

    assert response["statusCode"] == 202, response
    assert json.loads(response["body"])["data"]["status"] == "provisioning"
