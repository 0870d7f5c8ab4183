"""Supabase access tokens, verified locally against the project's signing keys.

Current Supabase projects sign with asymmetric keys published at the project's JWKS endpoint;
older ones with a shared HS256 secret, accepted only when `SUPABASE_JWT_SECRET` is configured.

Which algorithm verifies a token is decided by the key, never by the token: a published key
verifies with the algorithm its JWK states (`alg`, else its `kty`/`crv`), and the token's header
must name that same algorithm. HS256 is the shared secret's, and only for a token that names none
of the published keys (an attacker who knows a public key could otherwise sign "HS256" with it).
Anything else, an error inside the crypto layer included, is an `AuthenticationError` (401).
"""

from __future__ import annotations

import threading
from typing import Any

from mla_core.core.errors import AuthenticationError
from mla_core.core.principal import Principal, principal_from_claims
from mla_core.core.settings import Settings

#: The asymmetric algorithms a published key may verify with (what Supabase's signing keys use).
PUBLISHED_KEY_ALGORITHMS = frozenset({"ES256", "RS256", "EdDSA"})
LEGACY_HMAC_ALGORITHM = "HS256"  # the shared secret's


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        base = settings.supabase_url.rstrip("/")
        self._issuer = f"{base}/auth/v1"
        self._audience = settings.supabase_jwt_audience
        secret = settings.supabase_jwt_secret
        self._hs_secret = secret.get_secret_value() if secret else None
        import jwt  # imported on first use: it is not free at cold start

        self._jwks = jwt.PyJWKClient(f"{self._issuer}/.well-known/jwks.json", cache_keys=True, lifespan=600)
        self._lock = threading.Lock()

    def _published_key(self, kid: str) -> Any:
        """The published key named `kid` (a `PyJWK`, which carries its own algorithm); None when the
        project publishes no such key."""
        import jwt

        try:
            with self._lock:
                return self._jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthenticationError("signing keys are unavailable") from exc
        except jwt.PyJWKClientError:
            return None

    def _key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        """The key that verifies a token with this header, and the one algorithm it verifies with."""
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or not isinstance(kid, str | None):
            raise AuthenticationError("token header is malformed")
        if alg == LEGACY_HMAC_ALGORITHM:
            if not self._hs_secret:
                raise AuthenticationError("token is signed with a shared secret this project does not accept")
            if kid is not None and self._published_key(kid) is not None:
                raise AuthenticationError("token names a published key but is signed with a shared secret")
            return self._hs_secret, alg
        key = self._published_key(kid) if kid is not None else None
        if key is None:
            raise AuthenticationError("token is signed with an unknown key")
        if key.algorithm_name not in PUBLISHED_KEY_ALGORITHMS or alg != key.algorithm_name:
            raise AuthenticationError("token signing algorithm is not the one of its key")
        return key, alg

    def verify(self, token: str) -> Principal:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError("token is malformed") from exc
        key, algorithm = self._key_for(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "aud"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"token is not valid: {exc}") from exc
        except Exception as exc:  # the crypto layer's own errors (a key of another type, a bad signature)
            raise AuthenticationError("token is not valid") from exc
        return principal_from_claims(claims)
