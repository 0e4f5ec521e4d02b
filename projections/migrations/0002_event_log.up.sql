-- Seed 003's event log: entries that mobile apps record, one row per
-- tidemark.log_entry.recorded event.
CREATE TABLE event_log (
  event_id      uuid        PRIMARY KEY,
  user_id       text        NOT NULL,
  session_id    text,
  event_type    text        NOT NULL,
  event_data    jsonb       NOT NULL,
  event_source  text        NOT NULL,
  log_level     text        NOT NULL,
  ts            timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL,
  log_partition integer     NOT NULL,
  log_offset    bigint      NOT NULL
);
-- Lists are newest first; each filter of GET /events has an index that serves that order.
CREATE INDEX event_log_ts ON event_log (ts DESC, event_id);
CREATE INDEX event_log_user ON event_log (user_id, ts DESC);
CREATE INDEX event_log_session ON event_log (session_id, ts DESC);
CREATE INDEX event_log_type ON event_log (event_type, ts DESC);
CREATE INDEX event_log_source ON event_log (event_source, ts DESC);
