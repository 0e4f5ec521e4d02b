-- Answers to create requests sent with an Idempotency-Key, so a retry gets the first answer
-- and appends nothing new (a store the API writes, like the claims). `status` 0 marks a
-- request still in progress.
CREATE TABLE idempotency_records (
  scope        text        PRIMARY KEY,
  request_hash text        NOT NULL,
  status       integer     NOT NULL,
  content_type text,
  body         text,
  headers      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
