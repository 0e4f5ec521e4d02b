-- Seed 003's user records, kept by the account that created them. Their personal fields
-- travel sealed with that account's key; this read model holds them in clear until deletion.
CREATE TABLE app_users (
  user_id      text             PRIMARY KEY,
  owner_id     uuid             NOT NULL,
  email        text,
  display_name text,
  height       double precision,
  weight       double precision,
  revision     integer          NOT NULL,
  created_at   timestamptz      NOT NULL,
  updated_at   timestamptz      NOT NULL
);
CREATE INDEX app_users_owner ON app_users (owner_id, created_at, user_id);
CREATE INDEX app_users_created ON app_users (created_at, user_id);

ALTER TABLE identity_claims DROP CONSTRAINT identity_claims_kind_check;
ALTER TABLE identity_claims ADD CONSTRAINT identity_claims_kind_check
  CHECK (kind IN ('username', 'email', 'algorithm', 'recording', 'app_user'));
