-- Chorus schema 5: versions of a site's rule files applied from the admin app's editor
-- (docs/rules.md "Editing a rule in the admin app"). `record` is the version as the domain
-- writes it; (site, file, number) orders a file's versions, numbered from 1.
CREATE TABLE rule_versions (
    site text COLLATE "C" NOT NULL,
    file text COLLATE "C" NOT NULL,
    number bigint NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (site, file, number)
);
