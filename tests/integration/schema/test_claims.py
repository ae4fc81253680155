"""Trust in claims (schema/0020_claims.sql), against a real PostgreSQL.

Before: a server registered at 3 Gbit/s got 3 Gbit/s of weight at once, an account could add
any number of servers, nobody could say "that address is mine", and an address an admin had
disabled came back enabled when it was deleted and added again. Now:
- a server a volunteer adds is capped for its trial (1.5 Mbit/s for 14 days by default); what
  the volunteer asked for is kept and applied when the trial ends or an admin trusts the server;
  an operator's add (timepoolctl) starts without a trial;
- an account's servers are limited, also under 12 concurrent adds (exactly the limit gets in);
- a report holds the server out of DNS at once (with a DNS change), an admin's dismissal brings
  it back, a "disabled" decision disables it; reports are limited per reporter network;
- an admin-disabled address stays disabled when re-added after a delete and after a purge;
- the web's role can do all of it through the functions, and nothing else."""
import os
import sys
import threading

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402
from tptest import check  # noqa: E402


class Claims:
    """Accounts and servers in a fresh database, and what the claim rules made of them."""

    def __init__(self, db):
        self.db = db

    def account(self, email):
        return self.db.one("INSERT INTO accounts (email, password_hash, role) "
                           "VALUES (%s, 'x', 'volunteer') RETURNING id", email)

    def server(self, address, netspeed=1500, owner=None, score=15, trial=True):
        """A server as the web adds it (with a trial), or as an operator does (without)."""
        return self.db.one("INSERT INTO servers (address, country, netspeed, owner_id, score, "
                           "trial_until) VALUES (%s, 'de', %s, %s, %s, "
                           "CASE WHEN %s THEN new_server_trial_end() END) RETURNING id",
                           address, netspeed, owner, score, trial)

    def row(self, sid):
        return self.db.q("SELECT netspeed, netspeed_claimed, "
                         "trial_until > now() + interval '13 days', held_at IS NOT NULL, "
                         "disabled_at IS NOT NULL FROM servers WHERE id = %s", sid)[0]

    def in_dns(self, address):
        return self.db.one("SELECT count(*) FROM eligible_servers WHERE address = %s",
                           address) == 1

    def counter(self):
        return self.db.one("SELECT counter FROM dns_change")


def trial_cap(c):
    """The trial cap."""
    db = c.db
    owner = c.account("v@example.org")
    big = c.server("192.0.2.10", 3000000, owner)
    check(c.row(big) == (1500, 3000000, True, False, False),
          "3 Gbit/s asked: 1.5 Mbit/s for a 14-day trial, the claim kept (%s)" % (c.row(big),))
    db.q("UPDATE servers SET netspeed = 50000 WHERE id = %s", big)
    check(c.row(big)[:2] == (1500, 50000), "an edit during the trial is capped and kept too")
    db.q("UPDATE servers SET netspeed = 1500 WHERE id = %s", big)
    check(c.row(big)[:2] == (1500, 50000), "re-saving the capped value keeps the claim")
    db.q("UPDATE servers SET netspeed = 512 WHERE id = %s", big)
    check(c.row(big)[:2] == (512, None), "asking for less than the cap drops the claim")
    db.q("UPDATE servers SET netspeed = 100000 WHERE id = %s", big)
    check(db.one("SELECT end_netspeed_trials()") == 0 and c.row(big)[0] == 1500,
          "no trial has ended yet")
    db.q("UPDATE servers SET trial_until = now() - interval '1 second' WHERE id = %s", big)
    check(c.row(big)[:2] == (1500, 100000), "moving the trial's end back changes nothing yet")
    check(db.one("SELECT end_netspeed_trials()") == 1, "one trial ended")
    check(db.q("SELECT netspeed, netspeed_claimed, trial_until FROM servers WHERE id = %s",
               big)[0] == (100000, None, None), "after the trial: the asked-for 100 Mbit/s")
    operator = c.server("192.0.2.15", 100000, owner, trial=False)
    check(c.row(operator)[:2] == (100000, None), "an operator's add starts without a trial")
    small = c.server("192.0.2.11", 512, owner)
    check(c.row(small)[:2] == (512, None), "a claim within the cap is not touched")
    trusted = c.server("192.0.2.12", 1000000, owner)
    check(db.one("SELECT trust_server(%s)", trusted) is True and
          db.q("SELECT netspeed, trial_until FROM servers WHERE id = %s", trusted)[0] ==
          (1000000, None), "an admin's trust ends the trial: 1 Gbit/s at once")
    db.q("UPDATE claim_settings SET new_server_netspeed_cap = 12000, new_server_trial = '0'")
    nocap = c.server("192.0.2.13", 250000, owner)
    check(c.row(nocap)[:2] == (250000, None), "a trial of 0: no cap")
    db.q("UPDATE claim_settings SET new_server_netspeed_cap = 12000, new_server_trial = '7 days'")
    capped = c.server("192.0.2.14", 250000, owner)
    check(c.row(capped)[:2] == (12000, 250000), "the cap and the trial are settings")
    try:
        db.q("UPDATE claim_settings SET new_server_netspeed_cap = 1234")
        check(False, "a cap that is not a netspeed value is refused")
    except psycopg2.errors.CheckViolation:
        pass
    return owner


def servers_per_account(c):
    """Servers per account, also under concurrent adds."""
    db = c.db
    racer = c.account("race@example.org")
    db.q("UPDATE claim_settings SET max_servers_per_account = 3")
    ok, refused, hints = [], [], []

    def add(i):
        conn = db.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO servers (address, country, owner_id) "
                            "VALUES (%s, 'de', %s)", ("198.51.100.%d" % (i + 1), racer))
            ok.append(i)
        except psycopg2.Error as e:
            refused.append(e.pgcode)
            hints.append(e.diag.message_primary + " / " + (e.diag.message_hint or ""))
        finally:
            conn.close()
    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(len(ok) == 3 and refused == ["TP001"] * 9,
          "12 concurrent adds with a limit of 3: 3 in, 9 refused (%d in, %s)" %
          (len(ok), refused))
    print("refusal:", hints[0])
    check("already has 3 servers" in hints[0] and "delete a server first" in hints[0],
          "the refusal says why and what to do")
    db.q("UPDATE servers SET deleted_at = now() WHERE owner_id = %s AND id = "
         "(SELECT min(id) FROM servers WHERE owner_id = %s)", racer, racer)
    c.server("198.51.100.99", 1500, racer)
    check(db.one("SELECT count(*) FROM servers WHERE owner_id = %s AND deleted_at IS NULL",
                 racer) == 3, "a deleted server frees its place")
    db.q("UPDATE accounts SET max_servers = 4 WHERE id = %s", racer)
    c.server("198.51.100.98", 1500, racer)
    check(db.one("SELECT count(*) FROM servers WHERE owner_id = %s AND deleted_at IS NULL",
                 racer) == 4, "an admin's per-account limit overrides the setting")
    db.q("UPDATE claim_settings SET max_servers_per_account = 20")


def reports(c, owner):
    """Address reports: a hold at once, dismissals, a disabling decision, the limit per
    reporter network."""
    db = c.db
    victim = c.server("203.0.113.5", 1500, owner)
    check(c.in_dns("203.0.113.5"), "the reported server is in DNS before")
    before = c.counter()
    r1 = db.one("SELECT report_address('203.0.113.5', 'noc@example.net', 'ours', '10.1.2.3')")
    check(r1 is not None and not c.in_dns("203.0.113.5") and c.row(victim)[3],
          "a report holds the server out of DNS at once")
    check(c.counter() > before, "the hold is a DNS change (edges on standbys see it)")
    check(db.one("SELECT score FROM servers WHERE id = %s", victim) == 15,
          "a held server is still monitored (its score stays)")
    r2 = db.one("SELECT report_address('203.0.113.5', 'other@example.net', '', '10.1.2.4')")
    check(db.one("SELECT decide_address_report(%s, 'dismissed', 'admin@example.org')", r1),
          "the admin dismisses the first report")
    check(not c.in_dns("203.0.113.5"), "still held while the second report is open")
    check(not db.one("SELECT decide_address_report(%s, 'dismissed', 'a')", r1),
          "a decided report cannot be decided again")
    db.one("SELECT decide_address_report(%s, 'dismissed', 'admin@example.org')", r2)
    check(c.in_dns("203.0.113.5"), "both dismissed: back in DNS")
    check(db.one("SELECT count(*) FROM audit_log WHERE action = 'report.dismiss' "
                 "AND target = '203.0.113.5'") == 2, "each decision is in the audit log")
    r3 = db.one("SELECT report_address('203.0.113.5', 'noc@example.net', 'again', '10.1.2.5')")
    db.one("SELECT decide_address_report(%s, 'disabled', 'admin@example.org')", r3)
    check(c.row(victim)[3:] == (False, True), "a 'disabled' decision disables the server")
    nowhere = db.one("SELECT report_address('192.0.2.200', 'x@example.net', '', '10.1.2.6')")
    check(db.one("SELECT server_id FROM address_reports WHERE id = %s", nowhere) is None,
          "an address outside the pool is recorded for the admins, holding nothing")
    # 10.1.2.0/24 filed 4 today; the limit is 5.
    check(db.one("SELECT report_address('192.0.2.201', 'x@example.net', '', '10.1.2.7')")
          is not None, "the 5th report of a /24 in a day is taken")
    check(db.one("SELECT report_address('192.0.2.202', 'x@example.net', '', '10.1.2.8')")
          is None, "the 6th is not")
    check(db.one("SELECT report_address('192.0.2.202', 'x@example.net', '', '10.9.0.1')")
          is not None, "another /24 may still report")
    try:
        db.q("SELECT decide_address_report(%s, 'maybe', 'a')", r3)
        check(False, "an unknown decision is refused")
    except psycopg2.errors.InvalidParameterValue:
        pass


def disabled_address_stays(c, owner):
    """An admin-disabled address stays disabled."""
    db = c.db
    bad = c.server("192.0.2.50", 1500, owner)
    db.q("UPDATE servers SET disabled_at = now() WHERE id = %s", bad)
    db.q("UPDATE servers SET deleted_at = now() WHERE id = %s", bad)
    again = c.server("192.0.2.50", 1500, owner)
    check(c.row(again)[4], "re-added after a delete: still disabled")
    db.q("DELETE FROM servers WHERE address = '192.0.2.50'")
    purged = c.server("192.0.2.50", 1500, owner)
    check(c.row(purged)[4] and not c.in_dns("192.0.2.50"),
          "re-added after the rows were purged: still disabled")
    db.q("UPDATE servers SET disabled_at = NULL WHERE id = %s", purged)
    db.q("UPDATE servers SET deleted_at = now() WHERE id = %s", purged)
    fresh = c.server("192.0.2.50", 1500, owner)
    check(not c.row(fresh)[4], "once an admin enabled it, the address may come back enabled")


def web_role(c, owner):
    """The web's role."""
    db = c.db
    web = db.connect()
    web.autocommit = True
    with web.cursor() as cur:
        cur.execute("SET ROLE timepool_web")
        cur.execute("INSERT INTO servers (address, country, netspeed, owner_id, trial_until) "
                    "VALUES ('192.0.2.60', 'de', 25000, %s, new_server_trial_end()) "
                    "RETURNING id", (owner,))
        wid = cur.fetchone()[0]
        cur.execute("SELECT report_address('192.0.2.60', 'n@example.net', '', '10.7.0.1')")
        rid = cur.fetchone()[0]
        cur.execute("SELECT decide_address_report(%s, 'dismissed', 'admin')", (rid,))
        cur.execute("SELECT trust_server(%s), end_netspeed_trials()", (wid,))
        try:
            cur.execute("UPDATE servers SET held_at = NULL WHERE id = %s", (wid,))
            check(False, "the web's role cannot lift a hold except by a decision")
        except psycopg2.errors.InsufficientPrivilege:
            pass
    web.close()
    check(db.q("SELECT netspeed, held_at FROM servers WHERE address = '192.0.2.60' "
               "AND deleted_at IS NULL")[0] == (25000, None),
          "as timepool_web: add (capped), report, dismiss, trust")


def main():
    db = tptest.Database("tp_claims_")
    try:
        c = Claims(db)
        owner = trial_cap(c)
        servers_per_account(c)
        reports(c, owner)
        disabled_address_stays(c, owner)
        web_role(c, owner)
    finally:
        db.close()
    print("PASS")


if __name__ == "__main__":
    main()
