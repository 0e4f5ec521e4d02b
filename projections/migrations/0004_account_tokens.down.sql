ALTER TABLE users DROP COLUMN email_verified_at;
DROP TABLE mail_deliveries;
DROP TABLE token_redemptions;
DROP TABLE account_tokens;
