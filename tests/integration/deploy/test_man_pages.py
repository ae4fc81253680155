#!/usr/bin/env python3
"""Every man page lists exactly the configuration keys its program reads: each program prints
the keys it asked its configuration for (--config-keys, after reading it all as at start), and
the page's CONFIGURATION section must name each of them and no other. Every key read is also in
the commented sample deploy/timepool.toml (packaged as timepool.toml.all-keys)."""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import tptest  # noqa: E402

# Each program with the settings it needs before it accepts its configuration.
PROGRAMS = {
    "timepool-dns": [tptest.DNS],
    "timepool-web": [tptest.WEB],
    "timepool-monitor": [tptest.MONITOR, "--set", "monitor.key=k",
                         "--set", "monitor.url=https://monitor-api.example"],
    "timepool-monitor-api": [tptest.MONITOR_API, "--set", "monitor_api.plain_http=true"],
    "timepoolctl": [tptest.CTL],
}


def keys_read(argv):
    extra = ["audit", "list"] if argv[0].endswith("timepoolctl") else []
    r = subprocess.run(argv + ["--config-keys"] + extra, capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, PGHOST="/nonexistent"))
    if r.returncode != 0:
        raise AssertionError("%s --config-keys: exit %d: %s" % (argv[0], r.returncode, r.stderr))
    return set(r.stdout.split())


def page_keys(text):
    """The keys of the CONFIGURATION section: its .B lines after each .TP."""
    m = re.search(r"^\.SH CONFIGURATION\n(.*?)(?=^\.SH |\Z)", text, re.S | re.M)
    if not m:
        return None
    return set(re.findall(r"^\.TP\n\.B ([a-z_]+\.[a-z0-9_.]+)\n", m.group(1), re.M))


def sample_keys():
    keys, section = set(), None
    for line in open(os.path.join(tptest.SRC, "deploy", "timepool.toml")):
        s = re.match(r"^\[([a-z_]+)\]", line)
        if s:
            section = s.group(1)
            continue
        k = re.match(r"^#?\s*([a-z_][a-z0-9_.]*)\s*=", line)
        if k and section:
            keys.add(section + "." + k.group(1))
    return keys


class ManPages(unittest.TestCase):
    def test_every_key_read_is_documented(self):
        sample = sample_keys()
        for prog, argv in PROGRAMS.items():
            with self.subTest(program=prog):
                read = keys_read(argv)
                self.assertIn("log.level", read)
                with open(os.path.join(tptest.SRC, "man", prog + ".8")) as f:
                    text = f.read()
                documented = page_keys(text)
                self.assertIsNotNone(documented, "%s.8 has no CONFIGURATION section" % prog)
                self.assertEqual(sorted(read - documented), [],
                                 "keys %s reads that man/%s.8 does not list" % (prog, prog))
                self.assertEqual(sorted(documented - read), [],
                                 "keys man/%s.8 lists that %s does not read" % (prog, prog))
                self.assertIn(r"\-\-config\-keys", text)
                self.assertEqual(sorted(read - sample), [],
                                 "keys %s reads that deploy/timepool.toml lacks" % prog)

    def test_web_page_names_metrics_listen_and_mail(self):
        with open(os.path.join(tptest.SRC, "man", "timepool-web.8")) as f:
            text = f.read()
        self.assertIn(".B web.metrics_listen\n", text)
        self.assertIn(".B mail.site_url\n", text)
        self.assertIn(".BR [mail]", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
