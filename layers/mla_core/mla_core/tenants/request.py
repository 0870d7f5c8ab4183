"""What a super admin sends to create a tenant, validated before anything is created."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from mla_core.core.fields import Language, PhoneNumber, distinct
from mla_core.core.languages import canonical_state

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _state(name: str) -> str:
    canonical = canonical_state(name)
    if canonical is None:
        raise ValueError("must be an Indian state or union territory with a legislative assembly")
    return canonical


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
