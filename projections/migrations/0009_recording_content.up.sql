-- Uploaded recording content, stored once per SHA-256 (a content store the API writes, like
-- the key store; recordings point at it through tidemark.recording.content_attached events).
CREATE TABLE content_blobs (
  sha256    text        PRIMARY KEY,
  content   bytea       NOT NULL,
  size      bigint      NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE recordings ADD COLUMN content_sha256 text;
ALTER TABLE recordings ADD COLUMN content_type text;
ALTER TABLE recordings ADD COLUMN content_size bigint;
