"""What a super admin sends to create a tenant, validated before anything is created."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from mla_core.languages import SUPPORTED_LANGUAGES, canonical_state

# India's E.164 numbers: +91 then 10 digits (mobile, landline with STD code) or 11 (toll-free 1800…).
_INDIAN_E164 = re.compile(r"^\+91[1-9]\d{9,10}$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _e164(number: str) -> str:
    if not _INDIAN_E164.fullmatch(number):
        raise ValueError("must be an Indian number in E.164 form, e.g. +919876543210")
    return number


def _language(code: str) -> str:
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    return code


def _state(name: str) -> str:
    canonical = canonical_state(name)
    if canonical is None:
        raise ValueError("must be an Indian state or union territory with a legislative assembly")
    return canonical


def distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


PhoneNumber = Annotated[str, AfterValidator(_e164)]
Language = Annotated[str, AfterValidator(_language)]


class TenantRequest(BaseModel):
    """A new MLA tenant. `languages` is ordered: the first is the greeting language."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mla_name: Name
    constituency: Name
    state: Annotated[str, StringConstraints(min_length=2, max_length=60), AfterValidator(_state)]
    languages: Annotated[list[Language], Field(min_length=1, max_length=3), AfterValidator(distinct)]
    phone_numbers: Annotated[list[PhoneNumber], Field(min_length=1, max_length=10), AfterValidator(distinct)]
    admin_email: Annotated[EmailStr, Field(max_length=254)]
    admin_name: Name | None = None
    greeting: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = None

    model_config["json_schema_extra"] = {
        "examples": [
            {
                "mla_name": "K. Selvi",
                "constituency": "Mylapore",
                "state": "Tamil Nadu",
                "languages": ["ta", "en"],
                "phone_numbers": ["+914440001234"],
                "admin_email": "office@selvi.example.in",
                "admin_name": "Office of K. Selvi",
            }
        ]
    }
