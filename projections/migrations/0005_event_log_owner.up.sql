-- Each event-log entry belongs to the account that recorded it: users see their own entries,
-- analysts and admins all of them. Entries from before accounts have no owner.
ALTER TABLE event_log ADD COLUMN owner_id uuid;
CREATE INDEX event_log_owner ON event_log (owner_id, ts DESC);
