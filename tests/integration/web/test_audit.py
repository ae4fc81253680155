#!/usr/bin/env python3
"""The audit log from the site: every admin and account-changing action through the real
timepool-web leaves one entry with who, what, when, before and after; the admin page lists
them newest first with filters by account, object and action and pages back through them;
`timepoolctl audit list` shows the same entries; and the web's database role can add entries
but never change or remove one."""

import json
import re

import psycopg2

import webtest

ADMIN = "audit-admin@example.org"
ADMIN_PW = "admin password 77"


def entries(db, **where):
    sql = "SELECT actor, action, target, detail, before, after FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join("%s = %%s" % k for k in where)
    return db.q(sql + " ORDER BY id", *where.values())


class Audit(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        cls.chrony = webtest.Chronyd()
        cls.settings = {"allow_loopback": "true", "probe_port": cls.chrony.port}
        super().setUpClass()
        cls.db.create_admin(ADMIN, ADMIN_PW)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.chrony.stop()

    def admin(self):
        a = self.client()
        self.assertEqual(a.login(ADMIN, ADMIN_PW).status, 303)
        return a

    def volunteer_changes(self):
        """A volunteer adds, edits, schedules and undoes the deletion of a server, adds the
        vendor role and requests a zone. Returns (client, email, server id, request id)."""
        vol = self.client()
        email = self.unique_email("vol")
        vol.signup(email)
        vol.get("/servers")
        r = vol.add_server({"address": "127.0.0.1", "netspeed": "1500", "country": "de"})
        self.assertEqual(r.status, 303, r.body)
        sid = self.db.one("SELECT id FROM servers WHERE address = '127.0.0.1' "
                          "AND deleted_at IS NULL")
        vol.get("/servers/%d" % sid)
        self.assertEqual(vol.post("/servers/%d/netspeed" % sid, {"netspeed": "512"}).status, 303)
        self.assertEqual(vol.post("/servers/%d/delete" % sid, {"days": "7"}).status, 303)
        self.assertEqual(vol.post("/servers/%d/undelete" % sid, {}).status, 303)
        vol.get("/account")
        self.assertEqual(vol.post("/account/roles", {"volunteer": "yes", "vendor": "yes"}).status,
                         303)
        vol.get("/vendor")
        r = vol.post("/vendor/request", {
            "name": "audited-zone", "organization": "Audit Devices", "contact": "a@b.test",
            "device_description": "clocks", "device_count": "1000", "client_type": "ntp",
            "poll_description": "every 1024 s", "open_source": "no"})
        self.assertEqual(r.status, 303, r.body)
        rid = self.db.one("SELECT id FROM vendor_zones WHERE name = 'audited-zone'")
        return vol, email, sid, rid

    def admin_changes(self, email, sid, rid):
        """An admin disables, enables and moves the server, approves the zone and disables and
        enables the account. Returns the admin's client."""
        a = self.admin()
        a.get("/admin/servers")
        self.assertEqual(a.post("/admin/servers/%d/disable" % sid,
                                {"action": "disable", "reason": "answers 5 s off"}).status, 303)
        self.assertEqual(a.post("/admin/servers/%d/disable" % sid, {"action": "enable"}).status,
                         303)
        self.assertEqual(a.post("/admin/servers/%d/country" % sid, {"country": "fr"}).status, 303)
        a.get("/admin")
        self.assertEqual(a.post("/admin/vendor/%d/approve" % rid, {}).status, 303)
        vid = self.db.one("SELECT id FROM accounts WHERE email = %s", email)
        a.get("/admin/accounts")
        self.assertEqual(a.post("/admin/accounts/%d/disable" % vid, {"action": "disable"}).status,
                         303)
        self.assertEqual(a.post("/admin/accounts/%d/disable" % vid, {"action": "enable"}).status,
                         303)
        # Enabling an account that is not disabled changes nothing and records nothing.
        self.assertEqual(a.post("/admin/accounts/%d/disable" % vid, {"action": "enable"}).status,
                         303)
        return a

    def check_server_entries(self, email):
        got = entries(self.db, target="127.0.0.1")
        self.assertEqual([(e[0], e[1]) for e in got], [
            (email, "server.add"), (email, "server.netspeed"), (email, "server.delete"),
            (email, "server.undelete"), (ADMIN, "server.disable"), (ADMIN, "server.enable"),
            (ADMIN, "server.country")])
        by_action = {e[1]: e for e in got}
        self.assertEqual(by_action["server.add"][4], None)
        self.assertEqual(by_action["server.add"][5]["owner"], email)
        self.assertEqual(by_action["server.add"][5]["country"], "de")
        self.assertEqual((by_action["server.netspeed"][4], by_action["server.netspeed"][5]),
                         ({"netspeed": 1500}, {"netspeed": 512}))
        self.assertEqual(by_action["server.delete"][4], {"deletion_on": None})
        self.assertRegex(by_action["server.delete"][5]["deletion_on"], r"^\d{4}-\d\d-\d\d$")
        self.assertEqual(by_action["server.undelete"][5], {"deletion_on": None})
        self.assertEqual(by_action["server.disable"][3], "answers 5 s off")
        self.assertEqual(by_action["server.disable"][4], {"disabled_at": None})
        self.assertEqual(by_action["server.enable"][5], {"disabled": False})
        self.assertEqual((by_action["server.country"][4], by_action["server.country"][5]),
                         ({"country": "de"}, {"country": "fr"}))
        # The owner's page gives the admin's reason (read from the audit log).
        self.assertEqual(self.db.q("SELECT 1 FROM audit_log WHERE action = 'server.disable' "
                                   "AND detail = 'answers 5 s off'"), [(1,)])

    def check_account_and_vendor_entries(self, email):
        roles = entries(self.db, action="account.roles")
        self.assertEqual(len(roles), 1)
        self.assertEqual(roles[0][4], {"role": "volunteer", "extra_roles": []})
        self.assertEqual(roles[0][5], {"role": "volunteer", "extra_roles": ["vendor"]})
        req = entries(self.db, action="vendor.request")
        self.assertEqual((req[0][0], req[0][2], req[0][4]), (email, "audited-zone", None))
        self.assertEqual(req[0][5]["status"], "new")
        approve = entries(self.db, action="vendor.approve")
        self.assertEqual((approve[0][0], approve[0][4]["status"], approve[0][5]["status"]),
                         (ADMIN, "new", "approved"))
        acc = entries(self.db, target=email)
        self.assertEqual([e[1] for e in acc if e[0] == ADMIN],
                         ["account.disable", "account.enable"])

    def check_token_entries(self, vol, email, rid):
        # The vendor's token, made and revoked.
        vol.login(email, "correct horse battery")
        page = vol.get("/vendor/%d" % rid)
        self.assertEqual(page.status, 200, page.body)
        self.assertEqual(vol.post("/vendor/%d/tokens" % rid, {"label": "ci"}).status, 303)
        tid = self.db.one("SELECT id FROM api_tokens WHERE label = 'ci'")
        vol.get("/vendor/%d" % rid)
        self.assertEqual(vol.post("/vendor/%d/tokens/%d/revoke" % (rid, tid), {}).status, 303)
        self.assertEqual([e[1] for e in entries(self.db, target="audited-zone")],
                         ["vendor.request", "vendor.approve", "token.create", "token.revoke"])

    def check_refused_change_records_nothing(self, vol, a, sid, rid):
        # A refused change records nothing.
        n = self.db.count("audit_log")
        self.assertEqual(vol.post("/servers/%d/netspeed" % sid, {"netspeed": "7"}).status, 400)
        self.assertEqual(a.post("/admin/vendor/%d/approve" % rid, {}).status, 409)
        self.assertEqual(self.db.count("audit_log"), n)

    def check_admin_page(self, a, email):
        """Returns the ids of the entries the page shows for the volunteer."""
        # The admin page shows them, and filters by account, object and action.
        page = a.get("/admin/audit?account=" + email)
        self.assertEqual(page.status, 200)
        rows = re.findall(r'<tr id="audit-(\d+)">', page.body)
        self.assertEqual(len(rows), self.db.one(
            "SELECT count(*) FROM audit_log WHERE lower(actor) = %s OR lower(target) = %s",
            email, email))
        self.assertEqual([int(x) for x in rows], sorted((int(x) for x in rows), reverse=True))
        self.assertIn("answers 5 s off", a.get("/admin/audit?target=127.0.0.1").body)
        only = a.get("/admin/audit?target=127.0.0.1&action=server.country").body
        self.assertEqual(len(re.findall(r'<tr id="audit-', only)), 1)
        self.assertIn("country: de", only)
        self.assertIn("country: fr", only)
        kinds = a.get("/admin/audit?action=server").body
        self.assertEqual(len(re.findall(r'<tr id="audit-', kinds)),
                         self.db.one("SELECT count(*) FROM audit_log WHERE action LIKE 'server.%%'"))
        self.assertNotIn("account.roles", kinds.split("<tbody>")[1])
        return rows

    def check_timepoolctl(self, email, rows):
        # timepoolctl shows the same entries.
        r = self.db.ctl("audit", "list", "--account", email, "--json", "--limit", "1000")
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = json.loads(r.stdout)
        self.assertEqual([e["id"] for e in listed], sorted(int(x) for x in rows))
        r = self.db.ctl("audit", "list", "--target", "127.0.0.1", "--action", "server.country",
                        "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = json.loads(r.stdout)
        self.assertEqual([(e["actor"], e["before"], e["after"]) for e in listed],
                         [(ADMIN, {"country": "de"}, {"country": "fr"})])

    def test_every_change_is_recorded_with_before_and_after(self):
        vol, email, sid, rid = self.volunteer_changes()
        a = self.admin_changes(email, sid, rid)
        self.check_server_entries(email)
        self.check_account_and_vendor_entries(email)
        self.check_token_entries(vol, email, rid)
        self.check_refused_change_records_nothing(vol, a, sid, rid)
        rows = self.check_admin_page(a, email)
        self.check_timepoolctl(email, rows)

    def test_page_is_for_admins_and_pages_back(self):
        for i in range(120):
            self.db.q("INSERT INTO audit_log (actor, action, target, detail) "
                      "VALUES ('timepoolctl:root', 'server.netspeed', 'paging.example', %s)",
                      "step %d" % i)
        a = self.admin()
        first = a.get("/admin/audit?target=paging.example")
        self.assertEqual(first.status, 200)
        seen = []
        page = first
        while True:
            details = re.findall(r"<td>step (\d+)</td>", page.body)
            seen += [int(d) for d in details]
            m = re.search(r'href="(/admin/audit\?[^"]*)" id="audit-older"', page.body)
            if not m:
                break
            self.assertEqual(len(details), 50)
            page = a.get(m.group(1).replace("&amp;", "&"))
            self.assertEqual(page.status, 200)
            self.assertIn('id="audit-newest"', page.body)
        self.assertEqual(seen, list(range(119, -1, -1)))
        self.assertEqual(a.get("/admin/audit?before=x").status, 400)

        vol = self.client()
        vol.signup(self.unique_email("nosy"))
        self.assertEqual(vol.get("/admin/audit").status, 403)
        anon = self.client()
        self.assertIn(anon.get("/admin/audit").status, (302, 303))

    def test_web_role_may_add_but_never_change_or_remove(self):
        self.db.q("INSERT INTO audit_log (actor, action, target) VALUES ('x', 'server.add', 'y')")
        conn = self.db.connect()
        conn.autocommit = False
        try:
            cur = conn.cursor()
            cur.execute("SET ROLE timepool_web")
            cur.execute("INSERT INTO audit_log (actor, action, target) "
                        "VALUES ('web', 'server.add', 'z')")
            cur.execute("SELECT count(*) FROM audit_log")
            self.assertGreaterEqual(cur.fetchone()[0], 2)
            conn.commit()
            for stmt in ("UPDATE audit_log SET detail = 'changed'",
                         "DELETE FROM audit_log",
                         "TRUNCATE audit_log"):
                cur.execute("SET ROLE timepool_web")
                with self.assertRaises(psycopg2.Error) as ctx:
                    cur.execute(stmt)
                self.assertEqual(ctx.exception.pgcode, "42501", stmt)
                conn.rollback()
        finally:
            conn.close()
        # Not even the owner of the table changes it: the trigger refuses.
        for stmt in ("UPDATE audit_log SET detail = 'changed'", "DELETE FROM audit_log"):
            with self.assertRaises(psycopg2.Error) as ctx:
                self.db.q(stmt)
            self.assertIn("append-only", str(ctx.exception))
        self.assertEqual(self.db.one("SELECT count(*) FROM audit_log WHERE detail = 'changed'"), 0)


if __name__ == "__main__":
    webtest.main()
