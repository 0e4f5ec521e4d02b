DROP TABLE webhook_deliveries;
DROP TABLE jobs;
DROP SEQUENCE job_update_seq;
