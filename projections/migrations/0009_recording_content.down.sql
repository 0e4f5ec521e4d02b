ALTER TABLE recordings DROP COLUMN content_size;
ALTER TABLE recordings DROP COLUMN content_type;
ALTER TABLE recordings DROP COLUMN content_sha256;
DROP TABLE content_blobs;
