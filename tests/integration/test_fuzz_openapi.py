"""Generated requests from each app's own OpenAPI schema: nothing a client can send makes a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from support import Api, tenant_body

FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def office_token(api: Api, admin_token: str) -> str:
    body = tenant_body()
    api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    return api.http.post("/auth/register", json={"token": invite, "password": "fuzz password 1"}).json()["data"][
        "access_token"
    ]


@pytest.fixture(scope="module")
def dashboard_schema(stack: Any) -> Any:
    from functions.dashboard.app import app

    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def admin_schema(stack: Any) -> Any:
    from functions.admin.app import app

    return schemathesis.openapi.from_asgi("/admin/openapi.json", app)


def fuzz(schema: Any, token: str) -> list[str]:
    """Run every operation of `schema` with generated cases; returns the operations exercised."""
    exercised = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            content_type = (response.headers.get("content-type") or [""])[0]
            assert content_type.startswith(("application/json", "text/csv")), (case.formatted_path, content_type)

        run()
        exercised.append(f"{operation.method.upper()} {operation.path}")
    return exercised


def test_the_dashboard_api_never_answers_5xx(dashboard_schema: Any, office_token: str) -> None:
    assert "PATCH /api/complaints/{complaint}" in fuzz(dashboard_schema, office_token)


def test_the_admin_api_never_answers_5xx(admin_schema: Any, admin_token: str) -> None:
    assert "POST /admin/tenants" in fuzz(admin_schema, admin_token)
