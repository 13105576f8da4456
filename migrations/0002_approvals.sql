-- Two-person approval (docs/team-mode.md, "Approvals"): a run waiting on a
-- step's `approve:` opens a request; other operators answer it with
-- `drctl approve` or `drctl deny`; the run decides and closes it.

CREATE TABLE approval_requests (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL REFERENCES incidents (id),
    step text NOT NULL,
    -- The run waiting on it, and its operator: the one person who cannot approve.
    run_id text NOT NULL,
    operator text NOT NULL,
    host text NOT NULL,
    needed integer NOT NULL CHECK (needed BETWEEN 1 AND 10),
    message text,
    asked_at timestamptz NOT NULL DEFAULT now(),
    state text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'approved', 'denied', 'timed_out', 'cancelled')),
    closed_at timestamptz,
    CHECK ((state = 'open') = (closed_at IS NULL))
);

-- At most one open request per step of an incident: a resumed run takes it over.
CREATE UNIQUE INDEX approval_requests_one_open
    ON approval_requests (incident_id, step) WHERE state = 'open';

-- One answer per operator and request. Append only.
CREATE TABLE approvals (
    request_id bigint NOT NULL REFERENCES approval_requests (id),
    operator text NOT NULL,
    host text NOT NULL,
    approved boolean NOT NULL,
    reason text,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (request_id, operator)
);

CREATE TRIGGER approvals_append_only BEFORE UPDATE OR DELETE ON approvals
    FOR EACH ROW EXECUTE FUNCTION drctl_refuse_change();
CREATE TRIGGER approvals_no_truncate BEFORE TRUNCATE ON approvals
    FOR EACH STATEMENT EXECUTE FUNCTION drctl_refuse_change();

-- A waiting run listens on `drctl_approval`; the payload is the incident id.
CREATE FUNCTION drctl_approval_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('drctl_approval', (SELECT incident_id FROM approval_requests WHERE id = NEW.request_id));
    RETURN NULL;
END
$$;

CREATE TRIGGER approvals_notify AFTER INSERT ON approvals
    FOR EACH ROW EXECUTE FUNCTION drctl_approval_notify();
