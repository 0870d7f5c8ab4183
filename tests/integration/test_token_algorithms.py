"""Which signing algorithm a token may use: the one of the published key it names, never the one its
header asks for (issue 12, item 3). Every forged header is a 401 through the API and a sign-in
redirect through a page, never a 500 or a dropped connection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import SecretStr
from test_auth import claims, standin_key

from mla_core.adapters.tokens import TokenVerifier
from mla_core.core.errors import AuthenticationError
from mla_core.core.settings import get_settings
from support import Api

SHARED_SECRET = "a-legacy-shared-secret-of-this-project-0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A token put together by hand, for headers PyJWT would not write."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _hmac_with(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def super_admin_claims(admin_token: str) -> dict[str, Any]:
    """The claims of the real super admin's session: a forgery that got past the signature check
    would be let in, so a 401 is the algorithm check's doing."""
    return jwt.decode(admin_token, options={"verify_signature": False})


def forged_tokens(stack: Any, body: dict[str, Any]) -> dict[str, str]:
    """One token per forged header; each names the project's key id unless its name says otherwise."""
    key, kid = standin_key(stack)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwks = httpx.get(f"{stack.env['SUPABASE_URL']}/auth/v1/.well-known/jwks.json").content
    return {
        "rs256": jwt.encode(body, rsa.generate_private_key(65537, 2048), "RS256", {"kid": kid}),
        "eddsa": jwt.encode(body, ed25519.Ed25519PrivateKey.generate(), "EdDSA", {"kid": kid}),
        "es384": jwt.encode(body, ec.generate_private_key(ec.SECP384R1()), "ES384", {"kid": kid}),
        "ps256": jwt.encode(body, rsa.generate_private_key(65537, 2048), "PS256", {"kid": kid}),
        "hs256": jwt.encode(body, SHARED_SECRET, "HS256", {"kid": kid}),
        "hs256_keyed_with_the_public_pem": _hand_signed(
            {"alg": "HS256", "kid": kid, "typ": "JWT"}, body, _hmac_with(public_pem)
        ),
        "hs256_keyed_with_the_jwks": _hand_signed({"alg": "HS256", "kid": kid, "typ": "JWT"}, body, _hmac_with(jwks)),
        "hs256_without_a_kid": jwt.encode(body, SHARED_SECRET, "HS256"),
        "none": _hand_signed({"alg": "none", "kid": kid}, body, lambda _: b""),
        "none_capitalised": _hand_signed({"alg": "None", "kid": kid}, body, lambda _: b""),
        "no_alg": _hand_signed({"kid": kid}, body, lambda _: b"x"),
        "alg_not_a_string": _hand_signed({"alg": {"ES256": 1}, "kid": kid}, body, lambda _: b"x"),
        "alg_a_list": _hand_signed({"alg": ["ES256"], "kid": kid}, body, lambda _: b"x"),
        "unknown_alg": _hand_signed({"alg": "XS999", "kid": kid}, body, lambda _: b"x"),
        "unknown_kid": jwt.encode(body, key, "ES256", {"kid": str(uuid.uuid4())}),
        "no_kid": jwt.encode(body, key, "ES256"),
        "kid_not_a_string": _hand_signed({"alg": "ES256", "kid": [kid]}, body, lambda _: b"x"),
        "es256_with_a_garbled_signature": jwt.encode(body, key, "ES256", {"kid": kid})[:-8] + "AAAAAAAA",
        "es256_with_a_signature_of_the_wrong_size": _hand_signed(
            {"alg": "ES256", "kid": kid, "typ": "JWT"}, body, lambda _: b"\x00" * 7
        ),
    }


FORGED = [
    "rs256",
    "eddsa",
    "es384",
    "ps256",
    "hs256",
    "hs256_keyed_with_the_public_pem",
    "hs256_keyed_with_the_jwks",
    "hs256_without_a_kid",
    "none",
    "none_capitalised",
    "no_alg",
    "alg_not_a_string",
    "alg_a_list",
    "unknown_alg",
    "unknown_kid",
    "no_kid",
    "kid_not_a_string",
    "es256_with_a_garbled_signature",
    "es256_with_a_signature_of_the_wrong_size",
]
API_PATHS = ["/admin/tenants", "/admin/openapi.json", "/api/complaints", "/auth/profile"]
PAGES = ["/admin/panel/tenants", "/app/complaints"]


@pytest.fixture(scope="module")
def forged(stack: Any, admin_token: str) -> dict[str, str]:
    return forged_tokens(stack, super_admin_claims(admin_token))


@pytest.mark.parametrize("case", FORGED)
@pytest.mark.parametrize("path", API_PATHS)
def test_a_forged_header_is_a_401_in_the_envelope(case: str, path: str, api: Api, forged: dict[str, str]) -> None:
    response = api.request("GET", path, forged[case])
    assert response.status_code == 401, response.text
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("case", FORGED)
@pytest.mark.parametrize("path", PAGES)
def test_a_forged_header_in_the_session_cookie_sends_a_page_to_sign_in(
    case: str, path: str, api: Api, forged: dict[str, str]
) -> None:
    response = api.http.get(path, headers={"Cookie": f"mla_session={forged[case]}"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(path.rsplit("/", 1)[0] + "/login")


def test_the_project_key_with_its_own_algorithm_is_still_accepted(api: Api, stack: Any, admin_token: str) -> None:
    key, kid = standin_key(stack)
    token = jwt.encode(super_admin_claims(admin_token), key, "ES256", {"kid": kid})
    assert api.request("GET", "/admin/tenants", token).status_code == 200


# A project that still accepts its legacy shared secret ------------------------------------------------


@pytest.fixture(scope="module")
def with_shared_secret(stack: Any) -> TokenVerifier:
    """The verifier as a project configured with `SUPABASE_JWT_SECRET` builds it."""
    return TokenVerifier(get_settings().model_copy(update={"supabase_jwt_secret": SecretStr(SHARED_SECRET)}))


def test_hs256_signed_with_the_shared_secret_and_no_key_id_is_accepted(
    with_shared_secret: TokenVerifier, stack: Any
) -> None:
    token = jwt.encode(claims(stack), SHARED_SECRET, "HS256")
    assert with_shared_secret.verify(token).role == "super_admin"


def test_hs256_with_a_key_id_the_shared_secret_does_not_have_is_accepted(
    with_shared_secret: TokenVerifier, stack: Any
) -> None:
    """Supabase names its legacy secret with a key id of its own, which the JWKS never lists."""
    token = jwt.encode(claims(stack), SHARED_SECRET, "HS256", {"kid": "legacy-secret"})
    assert with_shared_secret.verify(token).role == "super_admin"


@pytest.mark.parametrize("case", FORGED)
def test_with_a_shared_secret_every_forged_header_but_the_secrets_own_is_refused(
    case: str, with_shared_secret: TokenVerifier, forged: dict[str, str]
) -> None:
    if case == "hs256_without_a_kid":  # signed with the very secret configured: a real legacy token
        assert with_shared_secret.verify(forged[case]).role == "super_admin"
        return
    with pytest.raises(AuthenticationError):
        with_shared_secret.verify(forged[case])


def test_with_a_shared_secret_hs256_naming_a_published_key_is_refused_even_when_signed_with_it(
    with_shared_secret: TokenVerifier, stack: Any
) -> None:
    _, kid = standin_key(stack)
    token = jwt.encode(claims(stack), SHARED_SECRET, "HS256", {"kid": kid})
    with pytest.raises(AuthenticationError, match="shared secret"):
        with_shared_secret.verify(token)


def test_with_a_shared_secret_hs256_signed_with_another_secret_is_refused(
    with_shared_secret: TokenVerifier, stack: Any
) -> None:
    token = jwt.encode(claims(stack), "another-secret-another-secret-another-secret", "HS256")
    with pytest.raises(AuthenticationError):
        with_shared_secret.verify(token)
