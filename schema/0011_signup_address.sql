-- The client address an account was signed up from, for the limit of sign-ups per address
-- (web.signup_max_per_day). NULL for accounts made before, or by timepoolctl.
ALTER TABLE accounts ADD COLUMN signup_addr inet;
CREATE INDEX accounts_signup_addr_idx ON accounts (signup_addr, created_at)
  WHERE signup_addr IS NOT NULL;
