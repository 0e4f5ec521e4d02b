ALTER TABLE event_log DROP COLUMN revision;
