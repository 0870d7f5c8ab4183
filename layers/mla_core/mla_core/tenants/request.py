"""What a super admin sends to create a tenant, validated before anything is created."""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from pydantic_core import PydanticCustomError

from mla_core.core.fields import Language, PhoneNumber, distinct
from mla_core.core.languages import STATES_AND_UTS, canonical_state
from mla_core.core.sms_text import LocalName

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def nearest_state(name: str) -> str | None:
    """The state or union territory `name` is most likely a slip for ("Tamilnadu" → "Tamil Nadu")."""
    folded = {"".join(state.casefold().split()): state for state in STATES_AND_UTS}
    found = difflib.get_close_matches("".join(name.casefold().split()), folded, n=1, cutoff=0.75)
    return folded[found[0]] if found else None


def _state(name: str) -> str:
    canonical = canonical_state(name)
    if canonical is not None:
        return canonical
    suggestion = nearest_state(name)
    if suggestion is not None:
        raise PydanticCustomError(
            "unknown_state_near",
            "must be an Indian state or union territory with a legislative assembly: did you mean {suggestion}?",
            {"suggestion": suggestion},
        )
    raise ValueError("must be an Indian state or union territory with a legislative assembly")


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
    # The MLA's and the constituency's names in a language's own script (e.g. {"ta": "மயிலாப்பூர்"}),
    # said in that language's greeting and SMS; a language left out says the English spelling.
    mla_name_local: dict[Language, LocalName] = {}
    constituency_local: dict[Language, LocalName] = {}

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
                "mla_name_local": {"ta": "க. செல்வி"},
                "constituency_local": {"ta": "மயிலாப்பூர்"},
            }
        ]
    }
