-- Chorus schema 2: the audit trail (docs/audit.md). One row per entry, `seq` the primary key
-- (so a lost race fails rather than forks the chain); `record` is the entry as returned, the
-- columns are what listings filter on. Appends take `LOCK TABLE audit IN EXCLUSIVE MODE`
-- (readers are not blocked) from reading the head to inserting the next entry.
CREATE TABLE audit (
    seq bigint PRIMARY KEY,
    site text COLLATE "C",
    at_ms bigint NOT NULL,
    actor text COLLATE "C" NOT NULL,
    action text COLLATE "C" NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX audit_by_site ON audit (site, seq);
