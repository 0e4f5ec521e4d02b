-- Where each projection has got to in the log. A projector updates its row in the same
-- transaction as the read-model rows it wrote, so a restart resumes exactly after them.
CREATE TABLE projection_offsets (
  projection    text        NOT NULL,
  topic         text        NOT NULL,
  log_partition integer     NOT NULL,
  next_offset   bigint      NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, topic, log_partition)
);
