-- Notices about admins' changes, the audit log's readers, and mail marked as being sent.

-- The notice scan (web/notices.hpp) tells owners and vendors about changes an admin made by
-- reading the audit log: the web's handlers, timepoolctl and the schema's own functions
-- (decide_address_report) all record there, so every way of changing a server is covered
-- once. The entries it has handled (kept two days, longer than the day it looks back):
CREATE TABLE notice_audit_done (
  audit_id bigint PRIMARY KEY,
  done_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notice_audit_done_at_idx ON notice_audit_done (done_at);

-- The audit page and `timepoolctl audit list` filter by who did it, newest first.
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);

-- The sender commits sending_at before it talks to the relay and clears it when the relay
-- refused: a row with sending_at set and sent_at unset was being delivered when the sender or
-- its database link stopped. Other senders leave such a row alone until the delivery must have
-- ended (web/mail_sender.hpp), so two senders never hand one message to the relay at once.
ALTER TABLE mail_outbox ADD COLUMN sending_at timestamptz;

GRANT SELECT, INSERT, DELETE ON notice_audit_done TO timepool_web;
GRANT SELECT ON audit_log TO timepool_web;
