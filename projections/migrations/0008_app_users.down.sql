DELETE FROM identity_claims WHERE kind = 'app_user';
ALTER TABLE identity_claims DROP CONSTRAINT identity_claims_kind_check;
ALTER TABLE identity_claims ADD CONSTRAINT identity_claims_kind_check
  CHECK (kind IN ('username', 'email', 'algorithm', 'recording'));
DROP TABLE app_users;
