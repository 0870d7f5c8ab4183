"""The environment a developer sets to swap a local part for the real service (`make dev` keeps the
value and starts no stand-in for it); tests clear the same names so they always run on their own stack."""

from __future__ import annotations

OVERRIDABLE = (
    "DATABASE_URL",
    "UPSTASH_REDIS_REST_URL",
    "UPSTASH_REDIS_REST_TOKEN",
    "LIVEKIT_URL",
    "LIVEKIT_API_KEY",
    "LIVEKIT_API_SECRET",
    "LIVEKIT_SIP_TRUNK_ID",
    "MEETING_RECORDINGS_BUCKET",
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_JWT_SECRET",
    "PROVISIONING_STATE_MACHINE_ARN",
    "DEPROVISIONING_STATE_MACHINE_ARN",
    "SES_FROM_EMAIL",
    "COMPLAINT_QUEUE_URL",
    "MEMORY_QUEUE_URL",
    "MEETING_SUMMARY_QUEUE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "SMS_DLT_ENTITY_ID",
    "SMS_DLT_TEMPLATE_COMPLAINT_REGISTERED",
    "SMS_DLT_TEMPLATE_IDS",
    "DASHBOARD_URL",
    "LIVE_UPDATES_URL",
    "LIVE_UPDATES_MANAGEMENT_URL",
)
