"""Supabase access tokens, verified locally against the project's signing keys.

Current Supabase projects sign with asymmetric keys published at the project's JWKS endpoint;
older ones with a shared HS256 secret, accepted only when `SUPABASE_JWT_SECRET` is configured.
"""

from __future__ import annotations

import threading
from typing import Any

from mla_core.core.errors import AuthenticationError
from mla_core.core.principal import Principal, principal_from_claims
from mla_core.core.settings import Settings

_ASYMMETRIC = ["ES256", "RS256", "EdDSA"]


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

    def _key_for(self, token: str, header: dict[str, Any]) -> tuple[Any, list[str]]:
        import jwt

        alg = header.get("alg")
        if alg == "HS256":
            if not self._hs_secret:
                raise AuthenticationError("token is signed with a shared secret this project does not accept")
            return self._hs_secret, ["HS256"]
        if alg not in _ASYMMETRIC:
            raise AuthenticationError("token signing algorithm is not accepted")
        try:
            with self._lock:
                return self._jwks.get_signing_key_from_jwt(token).key, [alg]
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthenticationError("signing keys are unavailable") from exc
        except jwt.PyJWKClientError as exc:
            raise AuthenticationError("token is signed with an unknown key") from exc

    def verify(self, token: str) -> Principal:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError("token is malformed") from exc
        key, algorithms = self._key_for(token, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "aud"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"token is not valid: {exc}") from exc
        return principal_from_claims(claims)
