-- The commonest lists, a user's own entries or recordings of one app user, newest first: these
-- indexes hold every column their filters and order read, so a page takes its rows in order
-- straight from the index and the total is counted from the index alone.
CREATE INDEX event_log_user_owner ON event_log (user_id, owner_id, ts DESC, event_id);
CREATE INDEX recordings_user_owner ON recordings (user_id, owner_id, created_at DESC, recording_id);
