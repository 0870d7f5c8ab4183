-- From hearing to action (issue 20): a held meeting's summary, written by a job after it ends (bilingual
-- minutes, with what the model calls cost), and its items (grievances raised, actions, decisions), each
-- linked to the transcript segments it came from. Staff review the items: a grievance accepted becomes a
-- complaint (channel 'meeting', linked both ways), an action a task with an owner and a due date.
-- Runs with search_path = tenant_<id>.
ALTER TABLE complaints DROP CONSTRAINT complaints_channel_check;
ALTER TABLE complaints ADD CONSTRAINT complaints_channel_check
    CHECK (channel IN ('phone', 'walk_in', 'web', 'manual', 'meeting'));

CREATE TABLE meeting_summaries (
    meeting_id uuid PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    minutes jsonb NOT NULL DEFAULT '{}'::jsonb,      -- {language: text}: the meeting's first language and English
    model text,
    parts integer NOT NULL DEFAULT 0,                -- transcript parts summarised (a long hearing: several, merged)
    llm_calls integer NOT NULL DEFAULT 0,
    prompt_tokens integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    cost_usd numeric(10, 6) NOT NULL DEFAULT 0,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE TABLE meeting_items (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('grievance', 'action', 'decision')),
    text text NOT NULL,
    speaker_identity text,
    speaker_name text,
    place text,                                       -- the ward or village, if said
    category text,                                    -- a grievance's suggested category
    suggested_owner text,                             -- an action's, as the model read it
    owner_user_id uuid,                               -- an action's owner from the team, once assigned
    due_date date,
    status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted', 'dropped', 'done')),
    segment_ids bigint[] NOT NULL DEFAULT '{}',
    complaint_id uuid UNIQUE REFERENCES complaints (id),
    phone text,                                       -- a grievance's citizen's number, if they gave one
    position integer NOT NULL DEFAULT 0,              -- the order the summary gave
    created_by text NOT NULL,                         -- job:<meeting id> or user:<id>
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX meeting_items_meeting_idx ON meeting_items (meeting_id, kind, position);
-- An owner's tasks, soonest due first; the overdue among them beside the overdue complaints.
CREATE INDEX meeting_items_tasks_idx ON meeting_items (owner_user_id, due_date) WHERE kind = 'action' AND status = 'accepted';
CREATE INDEX meeting_items_complaint_idx ON meeting_items (complaint_id) WHERE complaint_id IS NOT NULL;
