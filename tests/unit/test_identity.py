"""Token verification rules that need no server: the legacy HS256 secret and the claims we require."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import SecretStr

from mla_core.adapters.tokens import TokenVerifier
from mla_core.core.errors import AuthenticationError
from mla_core.core.principal import principal_from_claims
from mla_core.core.settings import Settings

SECRET = "legacy-project-jwt-secret-at-least-32-bytes"
SUPABASE = "http://127.0.0.1:1"  # nothing listens: the JWKS must not be needed for HS256


def token(secret: str = SECRET, **overrides: object) -> str:
    now = int(time.time())
    claims = {
        "iss": f"{SUPABASE}/auth/v1",
        "sub": "u-1",
        "aud": "authenticated",
        "exp": now + 60,
        "iat": now,
        "email": "staff@example.in",
        "app_metadata": {"role": "staff", "tenant_id": "abcde12345"},
    }
    return jwt.encode({**claims, **overrides}, secret, algorithm="HS256")


def verifier(secret: str | None = SECRET) -> TokenVerifier:
    return TokenVerifier(Settings(supabase_url=SUPABASE, supabase_jwt_secret=SecretStr(secret) if secret else None))


def test_a_legacy_hs256_token_is_accepted_when_the_secret_is_configured() -> None:
    who = verifier().verify(token())
    assert (who.user_id, who.role, who.tenant_id) == ("u-1", "staff", "abcde12345")


def test_hs256_is_refused_when_no_secret_is_configured() -> None:
    with pytest.raises(AuthenticationError, match="shared secret"):
        verifier(None).verify(token())


@pytest.mark.parametrize(
    "bad",
    [
        {"secret": "another-secret-another-secret-another"},
        {"exp": int(time.time()) - 120},
        {"aud": "anon"},
        {"iss": "https://elsewhere.supabase.co/auth/v1"},
    ],
)
def test_a_bad_signature_expiry_audience_or_issuer_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(AuthenticationError):
        verifier().verify(token(**bad))  # type: ignore[arg-type]


def test_a_super_admin_has_no_tenant_and_other_roles_need_one() -> None:
    assert (
        principal_from_claims({"sub": "u", "app_metadata": {"role": "super_admin", "tenant_id": "x"}}).tenant_id is None
    )
    with pytest.raises(AuthenticationError):
        principal_from_claims({"sub": "u", "app_metadata": {"role": "mla_admin"}})
    with pytest.raises(AuthenticationError):
        principal_from_claims({"sub": "u", "app_metadata": {"role": "authenticated"}})
