-- Chorus schema 1. Text keys use the "C" collation: byte order, as the sled backend sorts, so
-- both backends list and back up records in the same order (and indexes compare bytes).

-- One row per stored response: the record as the domain writes it, and the columns listings
-- filter on (a tag filter reads `record -> 'tags'`).
CREATE TABLE responses (
    site text COLLATE "C" NOT NULL,
    id uuid NOT NULL,
    survey text COLLATE "C" NOT NULL,
    grp text COLLATE "C" NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (site, id)
);
CREATE INDEX responses_by_survey ON responses (site, survey, id);

-- Idempotency keys: the constraint is what keeps two nodes from storing one request twice.
CREATE TABLE idempotency_keys (
    site text COLLATE "C" NOT NULL,
    key uuid NOT NULL,
    survey text COLLATE "C" NOT NULL,
    fingerprint text NOT NULL,
    response_id uuid NOT NULL,
    PRIMARY KEY (site, key)
);

-- Follow-up tasks: `record` is the task as created; `status` and `history` are what changes.
-- `survey` ('' for a review's task), `on_time`, `outcome` and `tenths` are what the task adds
-- to the report's follow-up figures (`TaskTally::count`), kept with every write, so that the
-- figures are one aggregate query.
CREATE TABLE tasks (
    site text COLLATE "C" NOT NULL,
    id uuid NOT NULL,
    status text NOT NULL,
    queue text COLLATE "C" NOT NULL,
    origin text NOT NULL,
    -- The due time in milliseconds, or the largest bigint when there is none (sorts last).
    due_sort bigint NOT NULL,
    record jsonb NOT NULL,
    history jsonb NOT NULL,
    survey text COLLATE "C" NOT NULL,
    on_time boolean NOT NULL,
    outcome text,
    tenths integer,
    -- The UTC day the task was opened (the day of its UUIDv7 id).
    day integer NOT NULL,
    PRIMARY KEY (site, id)
);
CREATE INDEX tasks_by_due ON tasks (site, due_sort, id);
CREATE INDEX tasks_by_queue ON tasks (site, queue, due_sort, id);

-- The follow-up figures per site, queue, survey, origin, day opened and what the tasks add to a
-- tally, kept by statement triggers on `tasks` (every insert, upsert and transition, in its
-- transaction), so a report sums whole days here and reads only partial edge days from
-- `tasks`. `slot` (the backend's pid modulo 4) spreads today's rows over a few, so concurrent
-- transactions seldom wait for each other's COMMIT on them; a report sums the slots.
CREATE TABLE task_counts (
    site text COLLATE "C" NOT NULL,
    queue text COLLATE "C" NOT NULL,
    survey text COLLATE "C" NOT NULL,
    origin text NOT NULL,
    day integer NOT NULL,
    status text NOT NULL,
    on_time boolean NOT NULL,
    outcome text COLLATE "C" NOT NULL,
    tenths integer NOT NULL,
    slot smallint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (site, queue, survey, origin, day, status, on_time, outcome, tenths, slot)
);

-- Adds the rows a statement inserted and takes back those it replaced (`changed`: the rows
-- with +1 or -1), summed per key, in key order.
CREATE FUNCTION chorus_count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS d FROM new_rows'
        WHEN 'UPDATE' THEN 'SELECT *, 1 AS d FROM new_rows UNION ALL SELECT *, -1 AS d FROM old_rows'
        ELSE 'SELECT *, -1 AS d FROM old_rows' END;
BEGIN
    EXECUTE format(
        'INSERT INTO task_counts (site, queue, survey, origin, day, status, on_time, outcome, tenths, slot, n)
         SELECT site, queue, survey, origin, day, status, on_time, coalesce(outcome, %L),
                coalesce(tenths, -1), (pg_backend_pid() %% 4)::smallint, sum(d)
         FROM (%s) changed
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
         HAVING sum(d) <> 0
         ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
         ON CONFLICT (site, queue, survey, origin, day, status, on_time, outcome, tenths, slot)
         DO UPDATE SET n = task_counts.n + excluded.n', '', changed);
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_counted_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chorus_count_tasks();
CREATE TRIGGER tasks_counted_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chorus_count_tasks();
CREATE TRIGGER tasks_counted_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chorus_count_tasks();

-- Webhook deliveries, every field a column; `claimable_ms` is when a worker may take one.
CREATE TABLE deliveries (
    site text COLLATE "C" NOT NULL,
    id uuid NOT NULL,
    webhook text NOT NULL,
    origin text NOT NULL,
    response_id uuid NOT NULL,
    survey text NOT NULL,
    follow_up_id uuid NOT NULL,
    body text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL,
    created_at_ms bigint NOT NULL,
    next_attempt_ms bigint NOT NULL,
    last_error text,
    last_status integer,
    delivered_at_ms bigint,
    lease_node text,
    lease_until_ms bigint,
    claimable_ms bigint GENERATED ALWAYS AS (coalesce(lease_until_ms, next_attempt_ms)) STORED,
    PRIMARY KEY (site, id)
);
CREATE INDEX deliveries_by_status ON deliveries (site, status, id);
CREATE INDEX deliveries_due ON deliveries (claimable_ms) WHERE status = 'pending';

CREATE TABLE rule_errors (
    site text COLLATE "C" NOT NULL,
    id uuid NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (site, id)
);

-- Single-use links: a conditional UPDATE ... WHERE NOT used is what admits one response.
CREATE TABLE invitations (
    token_sha256 text COLLATE "C" PRIMARY KEY,
    site text NOT NULL,
    survey text NOT NULL,
    expires_at text NOT NULL,
    expires_at_ms bigint NOT NULL,
    used boolean NOT NULL
);

CREATE TABLE users (
    name text COLLATE "C" PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE,
    record jsonb NOT NULL
);

CREATE TABLE sessions (
    id_sha256 text COLLATE "C" PRIMARY KEY,
    user_name text NOT NULL,
    csrf text NOT NULL,
    created_ms bigint NOT NULL,
    last_seen_ms bigint NOT NULL
);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_ms);

-- Failed web sign-ins per account (the SHA-256 of the name tried), shared by every node.
CREATE TABLE login_failures (
    account text COLLATE "C" PRIMARY KEY,
    count integer NOT NULL,
    last_ms bigint NOT NULL
);
CREATE INDEX login_failures_by_last ON login_failures (last_ms);

-- Per-site jobs (kind 'retag' or 'review'): the state and the lease of the node running it.
CREATE TABLE jobs (
    kind text NOT NULL,
    site text COLLATE "C" NOT NULL,
    state jsonb,
    lease_node text,
    lease_until_ms bigint,
    PRIMARY KEY (kind, site)
);

-- The report's counts, kept in the write transaction of every response and re-tag: per
-- site, survey, version, group, UTC day and channel ('' until responses carry one), the
-- respondents (code '') and the respondents tagged with each code. `slot` spreads one key
-- over a few rows: the group-commit batches a node has in flight each add to a slot of their
-- own, so they do not wait for each other's COMMIT on today's rows; a report sums the slots.
CREATE TABLE report_counts (
    site text COLLATE "C" NOT NULL,
    survey text COLLATE "C" NOT NULL,
    survey_version integer NOT NULL,
    grp text COLLATE "C" NOT NULL,
    day integer NOT NULL,
    channel text COLLATE "C" NOT NULL DEFAULT '',
    code text COLLATE "C" NOT NULL,
    slot smallint NOT NULL DEFAULT 0,
    n bigint NOT NULL,
    PRIMARY KEY (site, survey, survey_version, grp, day, channel, code, slot)
);

-- A node that reloads a site bumps its generation; the other nodes poll and reload theirs.
CREATE TABLE site_reloads (
    site text COLLATE "C" PRIMARY KEY,
    generation bigint NOT NULL
);
