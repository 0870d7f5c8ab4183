-- Caller memory (mla_core.memory), Mem0's data model per office: what the office remembers about a
-- caller across calls, keyed by the number they called from (Mem0's user_id, E.164) and the person on
-- it (a household shares a phone; '' when only one is known). Typed profile slots (name, ward, booth,
-- language, accessibility) hold one current value per phone and person, a newer value superseding the
-- old one; free-form facts besides, deduplicated by their text's hash. Deletion is soft (the history
-- keeps what was said and by whom); an erasure or expiry removes rows. Runs with search_path = tenant_<id>.
CREATE TABLE caller_memories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    caller_phone text NOT NULL,
    person text NOT NULL DEFAULT '',
    kind text NOT NULL DEFAULT 'fact' CHECK (kind IN ('fact', 'profile')),
    slot text CHECK (slot IN ('name', 'ward', 'booth', 'language', 'accessibility')),
    memory text NOT NULL,
    agent_id text,
    run_id text,
    complaint_ids uuid[] NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    hash text NOT NULL,
    embedding extensions.vector(256),
    expires_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CHECK ((kind = 'profile') = (slot IS NOT NULL))
);
CREATE UNIQUE INDEX caller_memories_slot_key ON caller_memories (caller_phone, person, slot)
    WHERE slot IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX caller_memories_hash_key ON caller_memories (caller_phone, person, hash)
    WHERE slot IS NULL AND deleted_at IS NULL;
-- The agent's one query at call start, and a caller's list: newest first.
CREATE INDEX caller_memories_phone_idx ON caller_memories (caller_phone, updated_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- The office's list and retention's pass.
CREATE INDEX caller_memories_updated_idx ON caller_memories (updated_at DESC, id DESC) WHERE deleted_at IS NULL;

-- Mem0's history(): every ADD / UPDATE / DELETE, with who made it (`agent:<id>`, `user:<id>`,
-- `job:<id>`) and the call it came from.
CREATE TABLE caller_memory_history (
    id bigserial PRIMARY KEY,
    memory_id uuid NOT NULL REFERENCES caller_memories (id) ON DELETE CASCADE,
    event text NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    old_memory text,
    new_memory text,
    actor text NOT NULL,
    call_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX caller_memory_history_memory_idx ON caller_memory_history (memory_id, id);

-- Extraction in the background (`infer=true`, and every answered call): Mem0's event id and its outcome.
-- A call's job is keyed by the call (`call_id`: its stored room name), so a redelivered message runs once.
CREATE TABLE memory_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    caller_phone text NOT NULL,
    person text NOT NULL DEFAULT '',
    call_id text UNIQUE,
    messages jsonb NOT NULL DEFAULT '[]'::jsonb,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    results jsonb NOT NULL DEFAULT '[]'::jsonb,
    error text,
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
