"""One validated settings object, read once per process.

Locally every value comes from the environment (`make dev` writes `.local/dev.env`). In AWS the
non-secret values come from the function's environment and the secrets from one Secrets Manager
secret (a JSON object with the same keys) named by `APP_SECRET_ID`; the same object either way.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    environment: str = "local"

    # Postgres (Supabase in AWS, embedded locally)
    database_url: str = "postgresql://postgres@127.0.0.1:54329/postgres"

    # Upstash Redis REST
    upstash_redis_rest_url: str = "http://127.0.0.1:8003"
    upstash_redis_rest_token: SecretStr = SecretStr("local-upstash-token")

    # LiveKit
    livekit_url: str = "http://127.0.0.1:8001"
    livekit_api_key: str = "devkey"
    livekit_api_secret: SecretStr = SecretStr("devsecret_devsecret_devsecret_0123")
    livekit_sip_trunk_id: str = ""
    livekit_agent_name: str = "mla-voice-agent"

    # Supabase Auth
    supabase_url: str = "http://127.0.0.1:8002"
    supabase_anon_key: SecretStr = SecretStr("local-anon-key")
    supabase_service_role_key: SecretStr = SecretStr("local-service-role-key")
    # Legacy HS256 secret; only set for projects that still sign with it.
    supabase_jwt_secret: SecretStr | None = None
    supabase_jwt_audience: str = "authenticated"

    # AWS (boto3 also honours AWS_ENDPOINT_URL, which is how local mode points at moto)
    aws_region: str = Field(default="ap-south-1", validation_alias="AWS_REGION")
    provisioning_state_machine_arn: str = ""
    deprovisioning_state_machine_arn: str = ""
    # Where complaints wait when Postgres is unreachable (drained by the complaint-ingest function).
    complaint_queue_url: str = ""
    ses_from_email: str = "no-reply@mlavoice.example"
    sms_sender_id: str = "MLAOFC"
    # TRAI DLT registration of the platform's SMS (entity and the complaint-confirmation template).
    sms_dlt_entity_id: str = ""
    sms_dlt_template_complaint_registered: str = ""

    # Where the dashboard lives; invitation links point here.
    dashboard_url: str = "http://127.0.0.1:8000"

    # How long POST /admin/tenants?wait=true waits for provisioning (seconds).
    provisioning_wait_seconds: float = 25.0

    @property
    def livekit_secret(self) -> str:
        return self.livekit_api_secret.get_secret_value()


def _secrets_from_aws() -> dict[str, Any]:
    """The JSON secret named by APP_SECRET_ID, fetched once (Powertools caches it)."""
    arn = os.environ.get("APP_SECRET_ID")
    if not arn:
        return {}
    from aws_lambda_powertools.utilities.parameters import get_secret

    secrets: dict[str, Any] = json.loads(get_secret(arn, max_age=300))
    return secrets


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(**_secrets_from_aws())
