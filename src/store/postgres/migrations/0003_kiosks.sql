-- Chorus schema 3: waiting-room kiosks (docs/kiosk.md). `record` is the kiosk as the domain
-- writes it; the hash columns are the lookups by enrolment token and by cookie, kept in the
-- same row as the record (so a hash the kiosk no longer holds finds nothing) and unique.
CREATE TABLE kiosks (
    site text COLLATE "C" NOT NULL,
    id uuid NOT NULL,
    enrolment_sha256 text UNIQUE,
    cookie_sha256 text UNIQUE,
    record jsonb NOT NULL,
    PRIMARY KEY (site, id)
);
