-- Until this release, `tidemark rebuild` swapped in tables whose secondary indexes had the
-- names PostgreSQL generates (columns, then _idx) instead of the names the migrations gave,
-- so a migration naming an index (0014's down) failed on a rebuilt database. Rebuilds now keep
-- the live names; this gives a database rebuilt before that its names back.
ALTER INDEX IF EXISTS account_tokens_user_id_idx RENAME TO account_tokens_user;
ALTER INDEX IF EXISTS algorithms_recording_type_version_idx RENAME TO algorithms_type;
ALTER INDEX IF EXISTS algorithms_version_idx RENAME TO algorithms_version;
ALTER INDEX IF EXISTS app_users_created_at_user_id_idx RENAME TO app_users_created;
ALTER INDEX IF EXISTS app_users_owner_id_created_at_user_id_idx RENAME TO app_users_owner;
ALTER INDEX IF EXISTS domain_events_subject_time_idx RENAME TO domain_events_subject;
ALTER INDEX IF EXISTS domain_events_time_idx RENAME TO domain_events_time;
ALTER INDEX IF EXISTS domain_events_type_time_idx RENAME TO domain_events_type;
ALTER INDEX IF EXISTS event_log_owner_id_ts_idx RENAME TO event_log_owner;
ALTER INDEX IF EXISTS event_log_session_id_ts_idx RENAME TO event_log_session;
ALTER INDEX IF EXISTS event_log_event_source_ts_idx RENAME TO event_log_source;
ALTER INDEX IF EXISTS event_log_ts_event_id_idx RENAME TO event_log_ts;
ALTER INDEX IF EXISTS event_log_event_type_ts_idx RENAME TO event_log_type;
ALTER INDEX IF EXISTS event_log_user_id_ts_idx RENAME TO event_log_user;
ALTER INDEX IF EXISTS event_log_user_id_owner_id_ts_event_id_idx RENAME TO event_log_user_owner;
ALTER INDEX IF EXISTS jobs_owner_id_update_seq_idx RENAME TO jobs_owner_updates;
ALTER INDEX IF EXISTS jobs_recording_id_submitted_at_idx RENAME TO jobs_recording;
ALTER INDEX IF EXISTS recordings_owner_id_created_at_idx RENAME TO recordings_owner;
ALTER INDEX IF EXISTS recordings_recording_type_created_at_idx RENAME TO recordings_type;
ALTER INDEX IF EXISTS recordings_user_id_created_at_idx RENAME TO recordings_user;
ALTER INDEX IF EXISTS recordings_user_id_owner_id_created_at_recording_id_idx RENAME TO recordings_user_owner;
ALTER INDEX IF EXISTS sessions_previous_refresh_token_hash_idx RENAME TO sessions_previous_refresh;
ALTER INDEX IF EXISTS sessions_refresh_token_hash_idx RENAME TO sessions_refresh;
ALTER INDEX IF EXISTS sessions_user_id_idx RENAME TO sessions_user;
ALTER INDEX IF EXISTS users_created_at_user_id_idx RENAME TO users_created;
ALTER INDEX IF EXISTS users_email_idx RENAME TO users_email;
ALTER INDEX IF EXISTS users_lower_idx RENAME TO users_username;
