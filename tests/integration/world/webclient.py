#!/usr/bin/env python3
"""The web site's journeys, driven over HTTP the way a browser without JavaScript drives them:
fetch a page, read its form (hidden CSRF field included), post it with the session cookie.

    webclient.py BASE_URL signup EMAIL PASSWORD ROLE
    webclient.py BASE_URL add-server EMAIL PASSWORD COUNTRY NETSPEED ADDRESS... [--expect-refusal]
    webclient.py BASE_URL request-zone EMAIL PASSWORD NAME CLIENT_TYPE
    webclient.py BASE_URL approve-zone EMAIL PASSWORD NAME

Exit status 0 when the site did what was asked (or, with --expect-refusal, refused it and said
why), 1 otherwise, with the page's message on stderr.
"""
import html
import html.parser
import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class Forms(html.parser.HTMLParser):
    """Every <form> of a page: its action and the default values of its fields."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "names": []})
        elif not self.forms:
            return
        elif tag in ("input", "textarea") and a.get("name"):
            f = self.forms[-1]
            f["names"].append(a["name"])
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    f["fields"][a["name"]] = a.get("value", "on")
            else:
                f["fields"].setdefault(a["name"], a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1]["names"].append(a["name"])
        elif tag == "option" and self._select:
            if "selected" in a:
                self.forms[-1]["fields"][self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


class Browser:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path, data=None):
        url = path if path.startswith("http") else self.base + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=30) as r:
                return r.status, r.geturl(), r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, url, e.read().decode("utf-8", "replace")

    def form(self, path, action):
        status, _, page = self.request(path)
        if status != 200:
            die(f"GET {path}: HTTP {status}")
        p = Forms()
        p.feed(page)
        for f in p.forms:
            if re.fullmatch(action, f["action"]):
                return f, page
        die(f"GET {path}: no form posting to {action} (forms: {[f['action'] for f in p.forms]})")

    def submit(self, path, action, values):
        f, _ = self.form(path, action)
        fields = dict(f["fields"])
        for k in values:
            if k not in f["names"]:
                die(f"form {f['action']} on {path} has no field {k!r} (fields: {f['names']})")
        fields.update(values)
        return self.request(f["action"], fields)

    def login(self, email, password):
        status, url, page = self.submit("/login", "/login", {"email": email, "password": password})
        if status != 200 or urllib.parse.urlparse(url).path == "/login":
            die(f"login as {email} failed: HTTP {status}: {message(page)}")


def message(page):
    """The error or notice a page shows, as text."""
    m = re.search(r'class="(?:error|notice|flash)[^"]*"[^>]*>(.*?)</', page, re.S)
    text = m.group(1) if m else page[:300]
    return html.unescape(re.sub(r"<[^>]+>", " ", text)).strip()


def has_error(page):
    return re.search(r'class="error', page) is not None


def die(msg):
    print("webclient: " + msg, file=sys.stderr)
    sys.exit(1)


def main(argv):
    if len(argv) < 5:
        die(__doc__)
    base, cmd, email, password = argv[1:5]
    rest = argv[5:]
    b = Browser(base)
    if cmd == "signup":
        status, url, page = b.submit("/signup", "/signup",
                                     {"email": email, "password": password, "role": rest[0]})
        if status != 200 or has_error(page):
            die(f"signup {email}: HTTP {status}: {message(page)}")
        print(f"signed up {email} as {rest[0]}")
    elif cmd == "add-server":
        expect_refusal = "--expect-refusal" in rest
        rest = [r for r in rest if r != "--expect-refusal"]
        country, netspeed = rest[0:2]
        b.login(email, password)
        for address in rest[2:]:
            status, url, page = b.submit("/servers", "/servers/add",
                                         {"address": address, "country": country,
                                          "netspeed": netspeed})
            # The check runs in the background: its page reloads itself until it has ended.
            for _ in range(120):
                if 'id="checking"' not in page:
                    break
                time.sleep(0.5)
                status, url, page = b.request(url)
            refused = status >= 400 or has_error(page)
            if expect_refusal:
                if not refused:
                    die(f"add {address}: accepted, but it should have been refused")
                print(f"add {address}: refused as expected: {message(page)}")
            elif refused:
                die(f"add {address}: HTTP {status}: {message(page)}")
            else:
                print(f"added {address} ({country}, netspeed {netspeed})")
    elif cmd == "request-zone":
        name, client_type = rest[0:2]
        b.login(email, password)
        status, url, page = b.submit("/vendor", "/vendor/request", {
            "name": name, "organization": "Example Clocks Ltd", "contact": email,
            "device_description": "Wall clocks with an SNTP client",
            "device_count": "20000", "client_type": client_type,
            "poll_description": "Every 8 hours at a random minute, exponential backoff",
        })
        if status != 200 or has_error(page):
            die(f"request zone {name}: HTTP {status}: {message(page)}")
        print(f"requested vendor zone {name} ({client_type})")
    elif cmd == "approve-zone":
        name = rest[0]
        b.login(email, password)
        status, _, page = b.request("/admin")
        if status != 200:
            die(f"GET /admin: HTTP {status}")
        # The queue lists each request with its own approve form; take the one near the name.
        ids = [m for m in re.finditer(r'action="/admin/vendor/([0-9]+)/approve"', page)]
        chosen = None
        for m in ids:
            start = page.rfind("<form", 0, m.start())
            block = page[max(0, start - 3000):m.start()]
            if re.search(r"\b" + re.escape(name) + r"\b", block):
                chosen = m.group(1)
        if chosen is None:
            die(f"no approve form for {name} on /admin")
        status, _, page = b.submit("/admin", f"/admin/vendor/{chosen}/approve", {})
        if status != 200 or has_error(page):
            die(f"approve {name}: HTTP {status}: {message(page)}")
        print(f"approved vendor zone {name}")
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
