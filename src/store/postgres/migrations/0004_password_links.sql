-- Chorus schema 4: single-use links to set a password (an invitation of a user, the first
-- admin's link). Only the SHA-256 of the link's secret is kept. A link is used by inserting its
-- row into `password_link_uses`: the primary key lets one insert win, so a link is used once
-- even when two nodes take it at the same moment.
CREATE TABLE password_links (
    token_sha256 text COLLATE "C" PRIMARY KEY,
    user_name text NOT NULL,
    created_ms bigint NOT NULL,
    expires_ms bigint NOT NULL
);

CREATE TABLE password_link_uses (
    token_sha256 text COLLATE "C" PRIMARY KEY REFERENCES password_links (token_sha256),
    used_ms bigint NOT NULL
);
