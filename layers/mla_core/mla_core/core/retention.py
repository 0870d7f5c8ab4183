"""How long an office keeps a constituent's personal data (DPDP: no longer than its purpose needs).

Days, each with a default and the bounds an office may set it within (`platform.tenants.retention` holds
an office's own; what it leaves out is the default). The statistics' columns (category, area, dates,
status) are kept whatever these say; what goes is what names or reaches a person.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

WEBHOOK_EVENT_DAYS = 7  # LiveKit's webhook records: the platform's, the same for every office
# The longest an office may keep a meeting's recording: the recordings bucket's lifecycle rule deletes
# every object a day after this (template.yaml, held to it by tests/unit/test_template.py), in case a
# recording's record was lost (a meeting deleted, an egress whose webhook never came).
MEETING_RECORDINGS_MAX_DAYS = 365


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    transcripts_after_close: int = Field(
        365,
        ge=30,
        le=3650,
        description="days a call's transcript and recording are kept once its complaints are closed",
    )
    calls_without_complaint: int = Field(
        90, ge=7, le=3650, description="days a call that logged no complaint keeps its transcript, recording and number"
    )
    caller_details_after_close: int = Field(
        1095, ge=90, le=3650, description="days a closed complaint keeps the caller's name, numbers and description"
    )
    sms_after_sent: int = Field(180, ge=30, le=3650, description="days an SMS keeps its recipient and text")
    caller_memory: int = Field(
        365,
        ge=30,
        le=3650,
        description="days what the agent remembers of a caller (name, ward, language, facts) is kept after it last"
        " changed or was confirmed",
    )
    # A meeting's transcript is the office's record of what was asked at a hearing (the next issue turns it
    # into complaints): kept as long as a closed call's transcript. Its recording only serves to check the
    # transcript, and it holds every voice in the hall, which an erasure cannot cut one person's out of:
    # it goes much sooner, and no later than the bucket's lifecycle rule (template.yaml) allows.
    meeting_transcripts: int = Field(
        365,
        ge=30,
        le=3650,
        description="days after a meeting a transcript's segments and its citizens' names and numbers are kept",
    )
    meeting_recordings: int = Field(
        90,
        ge=7,
        le=MEETING_RECORDINGS_MAX_DAYS,
        description="days after a meeting its audio recording (everyone's voices) is kept",
    )
    archive_after_deprovision: int = Field(
        365,
        ge=30,
        le=3650,
        description="days a deprovisioned office's archived data is kept (an export is offered first)",
    )
