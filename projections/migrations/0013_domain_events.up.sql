-- Every domain event as it was applied, for analysts (`GET /log`): the envelope's attributes
-- and the payload as logged (personal fields stay sealed with their owner's key).
CREATE TABLE domain_events (
  log_partition  integer     NOT NULL,
  log_offset     bigint      NOT NULL,
  event_id       text        NOT NULL,
  type           text        NOT NULL,
  source         text        NOT NULL,
  subject        text,
  aggregate_key  text        NOT NULL,
  actor          text,
  correlation_id text,
  time           timestamptz NOT NULL,
  payload        jsonb       NOT NULL,
  PRIMARY KEY (log_partition, log_offset)
);
CREATE INDEX domain_events_time ON domain_events (time DESC);
CREATE INDEX domain_events_type ON domain_events (type, time DESC);
CREATE INDEX domain_events_subject ON domain_events (subject, time DESC);
