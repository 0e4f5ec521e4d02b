ALTER TABLE event_log DROP COLUMN owner_id;
