-- drctl's shared incident store (docs/team-mode.md). Applied by `drctl store init`;
-- every drctl checks at connect that the database's migrations are exactly its own.

-- The last incident number handed out per UTC day: `INC-YYYYMMDD-NNN`.
CREATE TABLE incident_numbers (
    day date PRIMARY KEY,
    last integer NOT NULL CHECK (last > 0)
);

CREATE TABLE incidents (
    id text PRIMARY KEY CHECK (id ~ '^INC-[0-9]{8}-[0-9]{3,}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    host text NOT NULL,
    operator text NOT NULL
);

-- One row per journal line: `line` is the exact JSON line of the file journal
-- (format, seq, ts, prev hash, event), without its newline. Append only.
CREATE TABLE journal (
    incident_id text NOT NULL REFERENCES incidents (id),
    seq bigint NOT NULL CHECK (seq > 0),
    line text NOT NULL,
    run_id text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (incident_id, seq)
);

-- The frozen runbook of each run: its exact text and SHA-256. Written once.
CREATE TABLE runs (
    incident_id text NOT NULL REFERENCES incidents (id),
    run_id text NOT NULL,
    source text NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    frozen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, run_id)
);

-- Captured output of each step (bounded by the adapter, redacted), the last attempt's.
CREATE TABLE outputs (
    incident_id text NOT NULL,
    run_id text NOT NULL,
    step text NOT NULL,
    stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
    text text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, run_id, step, stream),
    FOREIGN KEY (incident_id, run_id) REFERENCES runs (incident_id, run_id)
);

-- Who holds each advisory lock (the lock itself is `pg_try_advisory_lock(lock_key)`
-- on the holder's connection). A row whose backend is gone is stale: the next
-- holder replaces it. `session_token` is the holder's `drctl.session` setting,
-- set when it connected: a pooler that hands its server session to another
-- client cannot make that client the holder.
CREATE TABLE lock_holders (
    lock_key bigint PRIMARY KEY,
    name text NOT NULL,
    run_id text NOT NULL,
    operator text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    process_start bigint,
    since timestamptz NOT NULL,
    backend_pid integer NOT NULL,
    session_token text NOT NULL
);

CREATE FUNCTION drctl_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'drctl: table % is append-only', TG_TABLE_NAME;
END
$$;

CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION drctl_refuse_change();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION drctl_refuse_change();
CREATE TRIGGER runs_write_once BEFORE UPDATE OR DELETE ON runs
    FOR EACH ROW EXECUTE FUNCTION drctl_refuse_change();
CREATE TRIGGER runs_no_truncate BEFORE TRUNCATE ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION drctl_refuse_change();

-- `drctl log --follow` listens on `drctl_journal`; the payload is the incident id.
CREATE FUNCTION drctl_journal_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drctl_journal', NEW.incident_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER journal_notify AFTER INSERT ON journal
    FOR EACH ROW EXECUTE FUNCTION drctl_journal_notify();
