"""Every call to a vendor service goes through here: AWS (`aws`), LiveKit's server API and tokens
(`livekit`) and its signed webhooks (`livekit_webhooks`), Supabase Auth (`supabase_auth`) and its
tokens (`tokens`), OpenAI (`openai_api`), Upstash Redis (`upstash`) and the sign-in limits and live updates' connections and
events kept there (`ratelimit`, `live`), API Gateway's WebSocket connections (`aws.Connections`).
`Services` holds the adapters a process talks to, built from settings on first use.

Entry points get them from `get_services()`; tests build `Services(settings)` with settings that
point at the local stack. Each adapter (and its SDK import) is created only when first used, so
a function pays at cold start only for the vendors it really calls.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from mla_core.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from mla_core.adapters.aws import (
        AwsTimeouts,
        ComplaintQueue,
        Connections,
        Mailer,
        Recordings,
        SmsSender,
        Workflows,
    )
    from mla_core.adapters.live import LiveStore
    from mla_core.adapters.livekit import LiveKit
    from mla_core.adapters.openai_api import OpenAIApi
    from mla_core.adapters.ratelimit import FailureCounter
    from mla_core.adapters.supabase_auth import SupabaseAuth
    from mla_core.adapters.tokens import TokenVerifier
    from mla_core.adapters.upstash import AgentConfigStore, ComplaintReferences, RedisTimeouts
    from mla_core.db import Database


class Services:
    # Live updates queued and published by a thread, not while the caller waits (the agent worker
    # sets it: a call never waits on them); `mla_core.live.events.publish`.
    publish_in_background = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def db(self) -> Database:
        from mla_core.db import Database

        return Database(self.settings.database_url)

    @cached_property
    def livekit(self) -> LiveKit:
        from mla_core.adapters.livekit import LiveKit

        s = self.settings
        return LiveKit(s.livekit_url, s.livekit_api_key, s.livekit_secret)

    @cached_property
    def agent_configs(self) -> AgentConfigStore:
        from mla_core.adapters.upstash import AgentConfigStore

        s = self.settings
        return AgentConfigStore(
            s.upstash_redis_rest_url, s.upstash_redis_rest_token.get_secret_value(), self._redis_timeouts
        )

    @cached_property
    def references(self) -> ComplaintReferences:
        from mla_core.adapters.upstash import ComplaintReferences

        s = self.settings
        return ComplaintReferences(
            s.upstash_redis_rest_url, s.upstash_redis_rest_token.get_secret_value(), self._redis_timeouts
        )

    @cached_property
    def failures(self) -> FailureCounter:
        from mla_core.adapters.ratelimit import FailureCounter

        s = self.settings
        return FailureCounter(
            s.upstash_redis_rest_url, s.upstash_redis_rest_token.get_secret_value(), self._redis_timeouts
        )

    @cached_property
    def live(self) -> LiveStore:
        from mla_core.adapters.live import LiveStore

        s = self.settings
        return LiveStore(s.upstash_redis_rest_url, s.upstash_redis_rest_token.get_secret_value(), self._redis_timeouts)

    @cached_property
    def connections(self) -> Connections:
        """The live-updates WebSocket API's connections (not `configured` where it has no URL)."""
        from mla_core.adapters.aws import Connections

        s = self.settings
        return Connections(s.live_updates_management_url, s.aws_region, self._aws_timeouts)

    @property
    def _redis_timeouts(self) -> RedisTimeouts:
        from mla_core.adapters.upstash import RedisTimeouts

        s = self.settings
        return RedisTimeouts(
            connect_s=s.upstash_connect_timeout_s,
            read_s=s.upstash_read_timeout_s,
            retries=s.upstash_retries,
            retry_interval_s=s.upstash_retry_interval_s,
            unreachable_backoff_s=s.upstash_unreachable_backoff_s,
        )

    @property
    def _aws_timeouts(self) -> AwsTimeouts:
        from mla_core.adapters.aws import AwsTimeouts

        s = self.settings
        return AwsTimeouts(
            connect_s=s.aws_connect_timeout_s, read_s=s.aws_read_timeout_s, max_attempts=s.aws_max_attempts
        )

    @cached_property
    def queue(self) -> ComplaintQueue:
        from mla_core.adapters.aws import ComplaintQueue

        return ComplaintQueue(self.settings.aws_region, self.settings.complaint_queue_url, self._aws_timeouts)

    @cached_property
    def openai(self) -> OpenAIApi:
        from mla_core.adapters.openai_api import OpenAIApi

        s = self.settings
        s.require("openai_api_key")
        return OpenAIApi(
            s.openai_api_key.get_secret_value(),
            s.openai_base_url,
            timeout_s=s.openai_timeout_s,
            embedding_model=s.memory_embedding_model,
            extraction_model=s.memory_extraction_model,
        )

    @cached_property
    def memory_queue(self) -> ComplaintQueue:
        """Caller memory's extraction jobs (`mla_core.memory.jobs`): the same SQS sender as the complaints'."""
        from mla_core.adapters.aws import ComplaintQueue

        return ComplaintQueue(
            self.settings.aws_region, self.settings.memory_queue_url, self._aws_timeouts, setting="MEMORY_QUEUE_URL"
        )

    @cached_property
    def summary_queue(self) -> ComplaintQueue:
        """Meetings' summary jobs (`mla_core.meetings.summary_jobs`): the same SQS sender."""
        from mla_core.adapters.aws import ComplaintQueue

        return ComplaintQueue(
            self.settings.aws_region,
            self.settings.meeting_summary_queue_url,
            self._aws_timeouts,
            setting="MEETING_SUMMARY_QUEUE_URL",
        )

    @cached_property
    def auth(self) -> SupabaseAuth:
        from mla_core.adapters.supabase_auth import SupabaseAuth

        s = self.settings
        s.require("supabase_url", "supabase_anon_key", "supabase_service_role_key")
        return SupabaseAuth(
            s.supabase_url, s.supabase_anon_key.get_secret_value(), s.supabase_service_role_key.get_secret_value()
        )

    @cached_property
    def token_verifier(self) -> TokenVerifier:
        from mla_core.adapters.tokens import TokenVerifier

        self.settings.require("supabase_url")
        return TokenVerifier(self.settings)

    @cached_property
    def workflows(self) -> Workflows:
        from mla_core.adapters.aws import Workflows

        return Workflows(self.settings.aws_region, self._aws_timeouts)

    @cached_property
    def mailer(self) -> Mailer:
        from mla_core.adapters.aws import Mailer

        return Mailer(self.settings.aws_region, self.settings.ses_from_email, self._aws_timeouts)

    @cached_property
    def recordings(self) -> Recordings:
        """The meetings' recordings bucket (S3), for retention to delete what is past its days."""
        from mla_core.adapters.aws import Recordings

        s = self.settings
        return Recordings(s.meeting_recordings_region, s.meeting_recordings_bucket, self._aws_timeouts)

    @cached_property
    def sms(self) -> SmsSender:
        from mla_core.adapters.aws import SmsSender

        return SmsSender(self.settings.aws_region, self.settings.sms_sender_id, self._aws_timeouts)


@lru_cache(maxsize=1)
def get_services() -> Services:
    return Services(get_settings())
