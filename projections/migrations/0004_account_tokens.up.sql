-- Single-use tokens for email verification and password reset (a read model of
-- tidemark.user.token_issued), and the API's own record of redeemed tokens, which makes each
-- token usable once even when two requests race.
CREATE TABLE account_tokens (
  token_hash text        PRIMARY KEY,
  user_id    uuid        NOT NULL,
  purpose    text        NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

CREATE TABLE token_redemptions (
  token_hash  text        PRIMARY KEY,
  redeemed_at timestamptz NOT NULL DEFAULT now()
);

-- Mail the mailer has delivered, so a redelivered event does not send it twice.
CREATE TABLE mail_deliveries (
  event_id     text        PRIMARY KEY,
  delivered_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
