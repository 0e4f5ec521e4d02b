-- Inference jobs: one row per submitted job, its state and result. The first terminal outcome
-- (succeeded, or failed for good) wins; later redeliveries and duplicate outcomes change nothing.
-- `update_seq` orders changes for the event stream (`GET /stream`, `Last-Event-ID`).
CREATE SEQUENCE job_update_seq;
CREATE TABLE jobs (
  job_id         uuid        PRIMARY KEY,
  recording_id   text        NOT NULL,
  owner_id       uuid        NOT NULL,
  algo_id        text        NOT NULL,
  version        text        NOT NULL,
  location       text        NOT NULL,
  recording_type text        NOT NULL,
  status         text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  attempts       integer     NOT NULL DEFAULT 0,
  result         jsonb,
  failure        text,
  callback_url   text,
  runtime_ms     double precision,
  submitted_at   timestamptz NOT NULL,
  started_at     timestamptz,
  finished_at    timestamptz,
  update_seq     bigint      NOT NULL
);
CREATE INDEX jobs_recording ON jobs (recording_id, submitted_at DESC);
CREATE INDEX jobs_owner_updates ON jobs (owner_id, update_seq);

-- Webhook calls owed for finished jobs that named a callback URL: an outbox the inference
-- role's dispatcher works through (SKIP LOCKED, so any number of dispatchers share it). No
-- foreign key to jobs: a rebuild replaces the jobs table, the outbox stays.
CREATE TABLE webhook_deliveries (
  job_id          uuid        PRIMARY KEY,
  url             text        NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  abandoned_at    timestamptz,
  last_error      text
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND abandoned_at IS NULL;
