-- Seed 003's algorithm registry. `revision` counts applied changes: it is the ETag, and an
-- update that names the revision it expects applies only on that revision.
CREATE TABLE algorithms (
  algo_id        text        PRIMARY KEY,
  recording_type text        NOT NULL,
  location       text        NOT NULL,
  version        text        NOT NULL,
  revision       integer     NOT NULL,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX algorithms_type ON algorithms (recording_type, version);
CREATE INDEX algorithms_version ON algorithms (version);

-- Ids chosen by clients are claimed like usernames, so two creates of one id give one 201.
ALTER TABLE identity_claims DROP CONSTRAINT identity_claims_kind_check;
ALTER TABLE identity_claims ADD CONSTRAINT identity_claims_kind_check
  CHECK (kind IN ('username', 'email', 'algorithm'));
