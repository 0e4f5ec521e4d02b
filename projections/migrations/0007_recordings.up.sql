-- Seed 003's recordings, owned by the account that created them. `revision` is the ETag.
CREATE TABLE recordings (
  recording_id       text        PRIMARY KEY,
  recording_link     text        NOT NULL,
  recording_type     text        NOT NULL,
  user_id            text        NOT NULL,
  created_session_id text,
  owner_id           uuid        NOT NULL,
  revision           integer     NOT NULL,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);
CREATE INDEX recordings_owner ON recordings (owner_id, created_at DESC);
CREATE INDEX recordings_user ON recordings (user_id, created_at DESC);
CREATE INDEX recordings_type ON recordings (recording_type, created_at DESC);

ALTER TABLE identity_claims DROP CONSTRAINT identity_claims_kind_check;
ALTER TABLE identity_claims ADD CONSTRAINT identity_claims_kind_check
  CHECK (kind IN ('username', 'email', 'algorithm', 'recording'));
