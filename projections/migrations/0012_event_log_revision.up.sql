-- Event-log entries get a revision like the other resources: the ETag of `GET /events/{id}`,
-- and a correction that names the revision it expects applies only on that revision.
ALTER TABLE event_log ADD COLUMN revision integer NOT NULL DEFAULT 1;
