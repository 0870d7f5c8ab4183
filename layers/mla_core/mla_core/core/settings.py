"""One validated settings object, read once per process.

Locally every value comes from the environment (`make dev` writes `.local/dev.env`). In AWS the
non-secret values come from the function's environment and the secrets from one Secrets Manager
secret (a JSON object with the same keys) named by `APP_SECRET_ID`; the same object either way.

The development values (loopback URLs, the local stand-ins' keys) apply only when ENVIRONMENT is
`local`. Anywhere else `get_settings()` refuses to start, naming the keys, when a value every process
needs is missing or a development value is still in place: a key left out of the secret must never
fall back to a development secret. Supabase Auth's keys, which the agent worker does not need, are
checked when the Supabase client is first built (`Settings.require`).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: What a setting is when ENVIRONMENT=local and nothing else says (the local stack's own ports and keys).
DEVELOPMENT_VALUES: dict[str, str] = {
    "database_url": "postgresql://postgres@127.0.0.1:54329/postgres",
    "upstash_redis_rest_url": "http://127.0.0.1:8003",
    "upstash_redis_rest_token": "local-upstash-token",
    "livekit_url": "http://127.0.0.1:8001",
    "livekit_api_key": "devkey",
    "livekit_api_secret": "devsecret_devsecret_devsecret_0123",
    "supabase_url": "http://127.0.0.1:8002",
    "supabase_anon_key": "local-anon-key",
    "supabase_service_role_key": "local-service-role-key",
    "privacy_hash_key": "local-privacy-hash-key",
    "live_ticket_key": "local-live-ticket-key",
}
#: What every deployed process (each Lambda function and the agent worker) cannot start without.
REQUIRED_OUTSIDE_LOCAL = (
    "database_url",
    "upstash_redis_rest_url",
    "upstash_redis_rest_token",
    "livekit_url",
    "livekit_api_key",
    "livekit_api_secret",
)


class ConfigurationError(RuntimeError):
    """A deployed process started without a value it needs, or with a development value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    environment: str = "local"

    # Postgres (Supabase in AWS, embedded locally)
    database_url: str = ""

    # Upstash Redis REST
    upstash_redis_rest_url: str = ""
    upstash_redis_rest_token: SecretStr = SecretStr("")
    # How long a request waits on Upstash, how often it tries again, and how long after a failure
    # every Redis call fails at once (the callers then use Postgres) instead of waiting again.
    upstash_connect_timeout_s: float = 1.0
    upstash_read_timeout_s: float = 2.0
    upstash_retries: int = 1
    upstash_retry_interval_s: float = 0.2
    upstash_unreachable_backoff_s: float = 2.0

    # LiveKit
    livekit_url: str = ""
    livekit_api_key: str = ""
    livekit_api_secret: SecretStr = SecretStr("")
    livekit_sip_trunk_id: str = ""
    livekit_agent_name: str = "mla-voice-agent"
    # Meetings (`mla_core.meetings`): the note-taker's agent name (its own worker entry point,
    # `agent_pool.notetaker`), and where LiveKit's egress writes a meeting's audio recording: the bucket,
    # its region, and the role egress assumes to write there (LiveKit Cloud's egress in production).
    livekit_notetaker_agent_name: str = "mla-notetaker"
    meeting_recordings_bucket: str = ""
    meeting_recordings_region: str = "ap-south-1"
    meeting_recordings_role_arn: str = ""
    meeting_recordings_external_id: str = ""  # the id the role's trust policy asks of LiveKit's egress
    # A meeting's summary after it ends (`mla_core.meetings.summary_jobs`): the queue its jobs wait in, the
    # model, and the largest transcript part (in tokens, estimated) one call summarises before the parts
    # are merged.
    meeting_summary_queue_url: str = ""
    meeting_summary_model: str = "gpt-4.1-mini"
    meeting_summary_part_tokens: int = 12_000
    # How long after the meeting's end its summary job starts: the note-taker's last segments (the words
    # said as the room closed) are stored within seconds of it.
    meeting_summary_delay_s: int = 60

    # Supabase Auth
    supabase_url: str = ""
    supabase_anon_key: SecretStr = SecretStr("")
    supabase_service_role_key: SecretStr = SecretStr("")
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
    # TRAI DLT registration of the platform's SMS: the entity, and one template id per message and
    # language (`mla_core.complaints.sms.TEMPLATES`), written `<purpose>.<language>=<id>`, comma
    # separated: "complaint_registered.ta=1107...,complaint_registered.en=1107...". The older single
    # id stays as the confirmation's id in each language the list leaves out.
    sms_dlt_entity_id: str = ""
    sms_dlt_template_ids: str = ""
    sms_dlt_template_complaint_registered: str = ""
    # Every AWS client (SQS, SNS, SES, Step Functions): its connect and read waits, and how many
    # attempts botocore makes in all (standard mode: exponential back-off with jitter between them).
    aws_connect_timeout_s: float = 2.0
    aws_read_timeout_s: float = 5.0
    aws_max_attempts: int = 3

    # Where the dashboard lives; invitation links point here.
    dashboard_url: str = "http://127.0.0.1:8000"

    # Sign-in limits (`mla_core.identity.limits`): this many failures per account, and per client address,
    # within a fixed window of this many seconds, then 429 until the window ends. A failed sign-in is
    # answered no sooner than the floor, so that an unknown email or a disabled login (which Supabase
    # Auth refuses before hashing the password) takes as long as a wrong password.
    signin_failure_limit: int = 10
    signin_failure_window_s: int = 900
    signin_failure_floor_s: float = 0.3

    # DPDP requests (`mla_core.privacy`): the key of the digest that names a person in our records of
    # exports and erasures instead of their number, and of an erasure's confirmation token. Required
    # where those run (`privacy_key`), not by the agent worker.
    privacy_hash_key: SecretStr = SecretStr("")

    # Live updates (`mla_core.live`): the WebSocket URL pages connect to (API Gateway's `wss://…/<stage>`),
    # the Management API that posts to its connections (`https://…/<stage>`), the key that signs the
    # one-minute tickets a page connects with, and how long and how many events an office's feed keeps
    # for pages that reconnect. Without the URLs nothing is pushed and the pages say they are not live.
    live_updates_url: str = ""
    live_updates_management_url: str = ""
    live_ticket_key: SecretStr = SecretStr("")
    live_events_kept_s: int = 24 * 3600
    live_events_kept: int = 1000

    # Caller memory (`mla_core.memory`): OpenAI's API for its embeddings and its extraction after a call,
    # or a server speaking its protocol at `openai_base_url` (locally the stack's stand-in); the queue the
    # extraction jobs wait in.
    openai_api_key: SecretStr = SecretStr("")
    openai_base_url: str = ""
    openai_timeout_s: float = 10.0
    memory_embedding_model: str = "text-embedding-3-small"
    memory_extraction_model: str = "gpt-4.1-mini"
    memory_queue_url: str = ""

    # How long POST /admin/tenants?wait=true waits for provisioning (seconds).
    provisioning_wait_seconds: float = 25.0
    # A `provisioning` tenant with no execution this long after its last change is the reconciler's.
    reconcile_grace_seconds: float = 120.0

    @model_validator(mode="before")
    @classmethod
    def _development_values_in_local_mode(cls, values: Any) -> Any:
        if not isinstance(values, dict) or str(values.get("environment", "local")).lower() != "local":
            return values
        return {**DEVELOPMENT_VALUES, **{key: value for key, value in values.items() if value not in ("", None)}}

    @property
    def livekit_secret(self) -> str:
        return self.livekit_api_secret.get_secret_value()

    @property
    def privacy_key(self) -> bytes:
        """The digest key; refused (`ConfigurationError`) outside local mode when missing or a development value."""
        self.require("privacy_hash_key")
        return self.privacy_hash_key.get_secret_value().encode()

    @property
    def ticket_key(self) -> bytes:
        """The live updates' ticket key; refused outside local mode when missing or a development value."""
        self.require("live_ticket_key")
        return self.live_ticket_key.get_secret_value().encode()

    @field_validator("sms_dlt_template_ids")
    @classmethod
    def _template_ids_listed(cls, value: str) -> str:
        for entry in _entries(value):
            key, _, template_id = entry.partition("=")
            purpose, _, language = key.strip().partition(".")
            if not (purpose and language and template_id.strip().isdigit()):
                raise ValueError(f"{entry!r} is not <purpose>.<language>=<digits>")
        return value

    @property
    def sms_template_ids(self) -> dict[str, str]:
        """`<purpose>.<language>` -> DLT template id, from `sms_dlt_template_ids`; the older
        confirmation id is `complaint_registered.*`, for the languages the list leaves out
        (`mla_core.complaints.sms.template_id`)."""
        ids: dict[str, str] = {}
        for entry in _entries(self.sms_dlt_template_ids):
            key, _, template_id = entry.partition("=")
            ids[key.strip()] = template_id.strip()
        if self.sms_dlt_template_complaint_registered:
            ids.setdefault("complaint_registered.*", self.sms_dlt_template_complaint_registered)
        return ids

    @property
    def is_local(self) -> bool:
        return self.environment.lower() == "local"

    def refusals(self, required: tuple[str, ...] = REQUIRED_OUTSIDE_LOCAL) -> list[str]:
        """Why this deployment cannot start, one line per key: a `required` key missing, or any key
        still holding its development value (a copied dev.env must not serve in AWS). None locally."""
        if self.is_local:
            return []
        found = []
        for key in dict.fromkeys((*required, *DEVELOPMENT_VALUES)):
            text = _text(getattr(self, key))
            if not text and key in required:
                found.append(f"{key.upper()} is missing")
            elif text and text == DEVELOPMENT_VALUES.get(key):
                found.append(f"{key.upper()} still has its development value")
        return found

    def require(self, *keys: str) -> None:
        """Refuse (`ConfigurationError`, naming the keys) to go on without `keys`, or with development values."""
        refusals = self.refusals(keys or REQUIRED_OUTSIDE_LOCAL)
        if refusals:
            raise ConfigurationError(f"settings refused (ENVIRONMENT={self.environment}): " + "; ".join(refusals))


def _entries(listed: str) -> list[str]:
    return [part.strip() for part in listed.split(",") if part.strip()]


def _text(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")


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
    settings = Settings(**_secrets_from_aws())
    settings.require()
    return settings
