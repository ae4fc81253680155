"""Every admin route, taken from the web's own route table (`timepool-web --routes`), is refused
to an anonymous visitor (redirect to /login), a volunteer and a vendor (403 "Not allowed"), each
sending a valid CSRF token, so the refusal seen is the role check and not the CSRF check (whose
403 says "Form expired"). Nothing changes in the database. An admin then opens and posts every
one of them, which shows the paths and forms used were ones the site answers."""
import re
import subprocess

import webtest

# Sample values for the path patterns' groups; an unknown group fails the test, so a new kind of
# admin route gets a value here instead of being left out.
GROUPS = {"([0-9]{1,18})": "id", "([a-z0-9@-]{1,63})": "@"}
# Fields every admin form might read: enough for each POST handler to act if it let us in.
FIELDS = {"reason": "refused by the test", "action": "disable", "country": "fr"}


def admin_routes():
    out = subprocess.run([webtest.WEB, "--routes"], capture_output=True, text=True, check=True)
    routes = [tuple(line.split(" ", 1)) for line in out.stdout.splitlines() if line]
    return [(m, p) for m, p in routes if p == "/admin" or p.startswith("/admin/")]


class AdminRoutes(webtest.WebTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.routes = admin_routes()

    def state(self):
        """Everything an admin route could change."""
        return (self.db.snapshot(),
                self.db.q("SELECT id, status, zone_id FROM vendor_zones ORDER BY id"),
                self.db.q("SELECT id, country, disabled_at FROM servers ORDER BY id"),
                self.db.q("SELECT id, role, disabled_at FROM accounts ORDER BY id"),
                self.db.q("SELECT id, decided_at FROM address_reports ORDER BY id"),
                self.db.q("SELECT id, netspeed, trial_until, held_at FROM servers ORDER BY id"))

    def path_for(self, pattern, ids):
        """A concrete path for `pattern`: each id group gets the id of a row of the kind its
        preceding segment names (vendor, servers, accounts, reports)."""
        path = pattern
        for m in re.finditer(r"\([^)]*\)(\{[^}]*\})?", pattern):
            group = m.group(0)
            kind = GROUPS.get(group)
            self.assertIsNotNone(kind, "no sample value for %s in %s" % (group, pattern))
            if kind == "id":
                segment = pattern[:m.start()].rstrip("/").rsplit("/", 1)[-1]
                self.assertIn(segment, ids, "no sample row for %s" % pattern)
                value = str(ids[segment])
            else:
                value = kind
            path = path.replace(group, value, 1)
        self.assertRegex(path, "^(?:%s)$" % pattern)
        return path

    @staticmethod
    def with_query(method, path):
        # A zone name for the lookup form (GET /admin/zone?name=...); other pages ignore it.
        return path + "?name=@" if method == "GET" else path

    def signed_in(self, role):
        c = self.client()
        email = self.unique_email(role)
        c.signup(email, role=role)
        return c, email

    def token(self, c, logged_in):
        c.last_csrf = None
        self.assertEqual(c.get("/account" if logged_in else "/login").status, 200)
        self.assertIsNotNone(c.last_csrf, "a page with a form gives a CSRF token")
        return c.last_csrf

    def test_every_admin_route_refuses_non_admins(self):
        methods = {m for m, _ in self.routes}
        self.assertEqual(methods, {"GET", "POST"}, self.routes)
        self.assertIn(("GET", "/admin"), self.routes)
        self.assertGreaterEqual(len([r for r in self.routes if r[0] == "POST"]), 5, self.routes)

        vol, vol_email = self.signed_in("volunteer")
        ven, ven_email = self.signed_in("vendor")
        anon = self.client()
        vol_id = self.db.one("SELECT id FROM accounts WHERE email = %s", vol_email)
        sid = self.db.one("INSERT INTO servers (address, country, netspeed, score, owner_id) "
                          "VALUES ('198.51.100.61', 'de', 1500, 15, %s) RETURNING id", vol_id)
        vid = self.db.one("INSERT INTO vendor_zones (name, organization, contact, device_count, "
                          "client_type, account_id) VALUES ('routeco', 'Org', 'a@example.org', "
                          "1000, 'ntp', (SELECT id FROM accounts WHERE email = %s)) RETURNING id",
                          ven_email)
        rid = self.db.one("SELECT report_address('198.51.100.61', 'r@example.org', '', "
                          "'10.0.0.1')")
        ids = {"vendor": vid, "servers": sid, "accounts": vol_id, "reports": rid}
        paths = [(m, p, self.with_query(m, self.path_for(p, ids))) for m, p in self.routes]

        before = self.state()
        for who, c, logged_in in (("anonymous", anon, False), ("volunteer", vol, True),
                                  ("vendor", ven, True)):
            for method, pattern, path in paths:
                with self.subTest(who=who, route="%s %s" % (method, pattern)):
                    if method == "POST":
                        r = c.post(path, FIELDS, csrf=self.token(c, logged_in))
                    else:
                        r = c.get(path)
                    self.assertNotIn("Form expired", r.body, "the CSRF check refused it, not the role")
                    if logged_in:
                        self.assertEqual(r.status, 403, r.body[:300])
                        self.assertIn("Not allowed", r.body)
                    else:
                        self.assertEqual(r.status, 303, r.body[:300])
                        self.assertEqual(r.header("Location"), "/login")
        self.assertEqual(self.state(), before)

        # The same requests from an admin go through: the paths and tokens were good ones.
        admin_email = self.unique_email("admin")
        self.db.create_admin(admin_email, "admin password 1")
        adm = self.client()
        self.assertEqual(adm.login(admin_email, "admin password 1").status, 303)
        for method, pattern, path in paths:
            with self.subTest(who="admin", route="%s %s" % (method, pattern)):
                if method == "POST":
                    r = adm.post(path, FIELDS, csrf=self.token(adm, True))
                else:
                    r = adm.get(path)
                self.assertNotIn(r.status, (403, 404, 405), r.body[:300])
                self.assertNotIn("Form expired", r.body)
        self.assertNotEqual(self.state(), before)


if __name__ == "__main__":
    webtest.main()
