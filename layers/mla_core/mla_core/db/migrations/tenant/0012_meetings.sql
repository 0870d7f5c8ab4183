-- Meetings (issue 19): the office's public hearings (janata darbar, public hearing) and staff meetings,
-- held in a LiveKit room `mla-<tenant>-meet-<id>` with an AI note-taker that transcribes each participant
-- (mla_core.meetings). Runs with search_path = tenant_<id>.
CREATE TABLE meetings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('janata_darbar', 'public_hearing', 'staff')),
    title text NOT NULL,
    agenda text NOT NULL DEFAULT '',
    location text NOT NULL DEFAULT '',
    languages text[] NOT NULL,
    scheduled_at timestamptz NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
    status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended', 'cancelled')),
    room_name text NOT NULL UNIQUE,
    -- The recording: asked for when scheduled; 'recording' while the egress runs, 'stopped' by the host
    -- (the note-taker stops transcribing too), 'stored' when LiveKit's egress_ended named the file.
    recording text NOT NULL DEFAULT 'off' CHECK (recording IN ('off', 'pending', 'recording', 'stopped', 'stored', 'failed')),
    recording_wanted boolean NOT NULL DEFAULT true,
    recording_url text,
    started_at timestamptz,
    ended_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
-- The list and calendar: by when, newest first or a window of days.
CREATE INDEX meetings_scheduled_idx ON meetings (scheduled_at DESC, id DESC);

-- Who was in the room: the host and staff (signed-in office users), citizens (a name, optionally their
-- number), a hall microphone (one device, several speakers: diarized), and the note-taker itself.
-- `identity` is the LiveKit participant identity; joined_at keeps the first join, left_at the last leave.
CREATE TABLE meeting_participants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    identity text NOT NULL,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('host', 'staff', 'citizen', 'notetaker')),
    phone text,
    hall_microphone boolean NOT NULL DEFAULT false,
    user_id text,
    joined_at timestamptz,
    left_at timestamptz,
    muted boolean NOT NULL DEFAULT false,
    removed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, identity)
);
-- A constituent's export and erasure, by their number.
CREATE INDEX meeting_participants_phone_idx ON meeting_participants (phone) WHERE phone IS NOT NULL;

-- What was said: one row per final transcript segment, per participant (and per diarized speaker on a
-- hall microphone: `speaker_label`). Times are milliseconds from the meeting's start. `segment_key` is
-- the note-taker's id for the segment, so a retried write stores it once.
CREATE TABLE meeting_segments (
    id bigserial PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    participant_identity text NOT NULL,
    speaker_label text,
    language text NOT NULL,
    text text NOT NULL,
    start_ms integer NOT NULL CHECK (start_ms >= 0),
    end_ms integer NOT NULL CHECK (end_ms >= start_ms),
    is_final boolean NOT NULL DEFAULT true,
    segment_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, segment_key)
);
-- The transcript in the order it was spoken, and the live page's "after segment N".
CREATE INDEX meeting_segments_order_idx ON meeting_segments (meeting_id, start_ms, id);
