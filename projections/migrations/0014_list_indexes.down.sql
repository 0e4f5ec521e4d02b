DROP INDEX recordings_user_owner;
DROP INDEX event_log_user_owner;
