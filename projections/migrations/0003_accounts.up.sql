-- Accounts. user_keys and identity_claims are written by the API itself (a key store and a
-- reservation table, not projections); users and sessions are read models of the log.

-- Each user's data key, wrapped with the master key. Deleting a row crypto-shreds that user:
-- the personal fields sealed inside their events can no longer be opened.
CREATE TABLE user_keys (
  user_id     uuid        PRIMARY KEY,
  wrapped_key text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Unique usernames and emails, decided before the event is appended. A claim that was never
-- confirmed by a projected registration expires and can be taken again.
CREATE TABLE identity_claims (
  kind       text        NOT NULL CHECK (kind IN ('username', 'email')),
  value      text        NOT NULL,
  user_id    uuid        NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  confirmed  boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (kind, value)
);
CREATE INDEX identity_claims_user ON identity_claims (user_id);

CREATE TABLE users (
  user_id       uuid        PRIMARY KEY,
  username      text        NOT NULL,
  email         text,
  full_name     text,
  password_hash text        NOT NULL,
  role          text        NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);
CREATE INDEX users_username ON users (lower(username));
CREATE INDEX users_email ON users (email);
CREATE INDEX users_created ON users (created_at, user_id);

CREATE TABLE sessions (
  session_id                  uuid        PRIMARY KEY,
  user_id                     uuid        NOT NULL,
  refresh_token_hash          text        NOT NULL,
  previous_refresh_token_hash text,
  rotated_at                  timestamptz,
  expires_at                  timestamptz NOT NULL,
  created_at                  timestamptz NOT NULL,
  revoked_at                  timestamptz,
  revoked_reason              text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_refresh ON sessions (refresh_token_hash);
CREATE INDEX sessions_previous_refresh ON sessions (previous_refresh_token_hash);
