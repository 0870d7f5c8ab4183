"""Every validation rule of POST /admin/tenants, checked on the request model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mla_core.tenants.request import TenantRequest


def valid(**overrides: Any) -> dict[str, Any]:
    body = {
        "mla_name": "K. Selvi",
        "constituency": "Mylapore",
        "state": "Tamil Nadu",
        "languages": ["ta", "en"],
        "phone_numbers": ["+914440001234"],
        "admin_email": "office@selvi.example.in",
    }
    return {**body, **overrides}


def errors_for(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        TenantRequest.model_validate(body)
    return {".".join(str(p) for p in e["loc"]): e["type"] for e in caught.value.errors()}


def test_a_complete_request_is_accepted_and_normalised() -> None:
    request = TenantRequest.model_validate(valid(state="  tamil   nadu ", mla_name="  K. Selvi "))
    assert request.state == "Tamil Nadu"
    assert request.mla_name == "K. Selvi"


@pytest.mark.parametrize("field", ["mla_name", "constituency", "state", "languages", "phone_numbers", "admin_email"])
def test_each_required_field_is_required(field: str) -> None:
    body = valid()
    del body[field]
    assert errors_for(body) == {field: "missing"}


def test_unknown_fields_are_refused() -> None:
    assert errors_for(valid(plan="gold")) == {"plan": "extra_forbidden"}


@pytest.mark.parametrize("number", ["50000 12345", "+1415555267", "+910123456789", "+9198765", "+91987654321012"])
def test_phone_numbers_must_be_indian_e164(number: str) -> None:
    assert errors_for(valid(phone_numbers=[number])) == {"phone_numbers.0": "value_error"}


def test_toll_free_and_mobile_numbers_are_accepted() -> None:
    request = TenantRequest.model_validate(valid(phone_numbers=["+919876543210", "+9118001234567"]))
    assert request.phone_numbers == ["+919876543210", "+9118001234567"]


def test_a_number_cannot_be_listed_twice() -> None:
    assert errors_for(valid(phone_numbers=["+919876543210", "+919876543210"])) == {"phone_numbers": "value_error"}


def test_at_least_one_and_at_most_ten_numbers() -> None:
    assert errors_for(valid(phone_numbers=[])) == {"phone_numbers": "too_short"}
    many = [f"+9198765432{i:02d}" for i in range(11)]
    assert errors_for(valid(phone_numbers=many)) == {"phone_numbers": "too_long"}


def test_languages_must_be_supported_and_distinct() -> None:
    assert errors_for(valid(languages=["ta", "fr"])) == {"languages.1": "value_error"}
    assert errors_for(valid(languages=["hi", "hi"])) == {"languages": "value_error"}
    assert errors_for(valid(languages=[])) == {"languages": "too_short"}


def test_the_first_language_is_kept_first() -> None:
    assert TenantRequest.model_validate(valid(languages=["hi", "ta", "en"])).languages == ["hi", "ta", "en"]


def test_state_must_have_a_legislative_assembly() -> None:
    assert errors_for(valid(state="Atlantis")) == {"state": "value_error"}
    assert errors_for(valid(state="Lakshadweep")) == {"state": "value_error"}


def test_size_limits_apply() -> None:
    assert errors_for(valid(mla_name="x" * 121)) == {"mla_name": "string_too_long"}
    assert errors_for(valid(greeting="x" * 501)) == {"greeting": "string_too_long"}
    assert errors_for(valid(mla_name="   ")) == {"mla_name": "string_too_short"}


def test_admin_email_must_be_an_email() -> None:
    assert errors_for(valid(admin_email="not-an-email")) == {"admin_email": "value_error"}
