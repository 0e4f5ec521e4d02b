DROP TABLE sessions;
DROP TABLE users;
DROP TABLE identity_claims;
DROP TABLE user_keys;
