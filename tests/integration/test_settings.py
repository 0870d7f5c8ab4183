"""Settings outside local mode: a missing key or a development value stops the process, naming the key."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from mla_core.core.settings import DEVELOPMENT_VALUES, ConfigurationError, Settings, get_settings

DEPLOYED = {
    "environment": "prod",
    "database_url": "postgresql://app@db.example.supabase.co:6543/postgres",
    "upstash_redis_rest_url": "https://eu1-calm-fox.upstash.io",
    "upstash_redis_rest_token": "AX1-prod-token",
    "livekit_url": "wss://mla.livekit.cloud",
    "livekit_api_key": "APIprod",
    "livekit_api_secret": "prod-secret-0123456789abcdef0123456789",
}


@pytest.fixture(autouse=True)
def _nothing_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test says, not what a local stack started earlier in the session put in os.environ."""
    for name in (*Settings.model_fields, "APP_SECRET_ID", "AWS_REGION"):
        monkeypatch.delenv(name.upper(), raising=False)


def test_local_mode_fills_in_the_development_values() -> None:
    settings = Settings()
    assert settings.database_url == DEVELOPMENT_VALUES["database_url"]
    assert settings.supabase_service_role_key.get_secret_value() == DEVELOPMENT_VALUES["supabase_service_role_key"]
    settings.require()


def test_a_deployed_process_with_every_value_starts() -> None:
    Settings(**DEPLOYED).require()


def test_a_missing_value_is_refused_by_name() -> None:
    settings = Settings(**{**DEPLOYED, "livekit_api_secret": "", "database_url": ""})
    with pytest.raises(ConfigurationError) as refused:
        settings.require()
    assert "LIVEKIT_API_SECRET is missing" in str(refused.value)
    assert "DATABASE_URL is missing" in str(refused.value)
    assert "ENVIRONMENT=prod" in str(refused.value)


def test_a_development_value_is_refused_even_where_it_is_optional() -> None:
    settings = Settings(**{**DEPLOYED, "supabase_anon_key": DEVELOPMENT_VALUES["supabase_anon_key"]})
    with pytest.raises(ConfigurationError, match="SUPABASE_ANON_KEY still has its development value"):
        settings.require()


def test_supabase_keys_are_required_only_where_supabase_is_used() -> None:
    settings = Settings(**DEPLOYED)  # the agent worker: no Supabase Auth
    settings.require()
    with pytest.raises(ConfigurationError, match="SUPABASE_SERVICE_ROLE_KEY is missing"):
        settings.require("supabase_url", "supabase_anon_key", "supabase_service_role_key")


def test_a_key_left_out_of_the_secret_stops_the_process(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployed path: values from the function's environment, secrets from Secrets Manager (moto)."""
    secrets = {key.upper(): value for key, value in DEPLOYED.items() if key != "environment"}
    del secrets["LIVEKIT_API_SECRET"]
    name = f"mla-voice/test/{uuid.uuid4().hex[:8]}"
    stack.moto.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(secrets))
    for key, value in stack.moto.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("APP_SECRET_ID", name)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="LIVEKIT_API_SECRET is missing"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_the_privacy_key_is_required_where_privacy_requests_run() -> None:
    settings = Settings(**DEPLOYED)  # the agent worker: no privacy requests
    settings.require()
    with pytest.raises(ConfigurationError, match="PRIVACY_HASH_KEY is missing"):
        _ = settings.privacy_key
    with pytest.raises(ConfigurationError, match="PRIVACY_HASH_KEY still has its development value"):
        Settings(**DEPLOYED, privacy_hash_key=DEVELOPMENT_VALUES["privacy_hash_key"]).require()
    assert (
        Settings(**DEPLOYED, privacy_hash_key="prod-privacy-key-0123456789").privacy_key
        == b"prod-privacy-key-0123456789"
    )
    assert Settings(environment="local").privacy_key == DEVELOPMENT_VALUES["privacy_hash_key"].encode()
