-- The audit log: every change an operator or admin makes to servers, accounts, zones, vendor
-- requests and monitors, with who made it and why. timepoolctl writes a row for each of its
-- changes (actor "timepoolctl:<unix user>"); an admin's web action may write one too (actor:
-- the admin's email). Rows are never updated; `timepoolctl audit list` reads them.

CREATE TABLE audit_log (
  id     bigserial PRIMARY KEY,
  at     timestamptz NOT NULL DEFAULT now(),
  actor  text NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
  -- <object>.<verb>: server.add, server.disable, account.password-reset, vendor.reject ...
  action text NOT NULL CHECK (action ~ '^[a-z]+\.[a-z-]+$'),
  -- What it was done to: an address, an email, a zone or monitor name.
  target text NOT NULL CHECK (length(target) BETWEEN 1 AND 300),
  -- The operator's reason (shown to the owner where it concerns them) or the new value.
  detail text NOT NULL DEFAULT '' CHECK (length(detail) <= 2000)
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_target_idx ON audit_log (target, at);
