#!/usr/bin/env python3
"""deploy/prometheus/alerts.yml: well-formed rules, and every metric an expression names is on
the /metrics page of a running timepool-dns or timepool-web (a renamed metric would silently
never fire). Prometheus's own series (up, ...) are the only names allowed besides them."""

import os
import re
import sys
import unittest
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "web"))
sys.path.insert(0, os.path.join(HERE, "..", "dns"))
import dnstest  # noqa: E402
import webtest  # noqa: E402

RULES = os.path.join(webtest.tptest.SRC, "deploy", "prometheus", "alerts.yml")
PROMETHEUS_OWN = {"up"}
# PromQL words that look like names: functions, aggregations, keywords.
PROMQL = {"sum", "max", "min", "avg", "count", "rate", "irate", "increase", "by", "without",
          "histogram_quantile", "on", "ignoring", "group_left", "group_right", "and", "or",
          "unless", "le", "bool", "offset", "abs", "time", "absent", "delta", "deriv"}


def metric_names(page):
    names = set()
    for line in page.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def expr_names(expr):
    no_strings = re.sub(r'"[^"]*"', '""', expr)
    no_labels = re.sub(r"\{[^}]*\}", "", no_strings)
    no_ranges = re.sub(r"\[[^\]]*\]", "", no_labels)
    no_ranges = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "",
                       no_ranges)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", no_ranges))
    return words - PROMQL


class AlertRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(RULES) as f:
            cls.doc = yaml.safe_load(f)
        cls.db = webtest.TestDatabase()
        cls.web = webtest.WebServer(cls.db)
        cls.dns = dnstest.Dns(cls.db.conninfo())

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        cls.web.stop()
        cls.db.close()

    def rules(self):
        return [r for g in self.doc["groups"] for r in g["rules"]]

    def test_rules_are_well_formed(self):
        self.assertTrue(self.doc["groups"])
        seen = set()
        for r in self.rules():
            with self.subTest(alert=r.get("alert")):
                self.assertRegex(r["alert"], r"^Timepool[A-Za-z]+$")
                self.assertNotIn(r["alert"], seen)
                seen.add(r["alert"])
                self.assertTrue(r["expr"].strip())
                self.assertRegex(r["for"], r"^\d+[smh]$")
                self.assertIn(r["labels"]["severity"], ("page", "warning"))
                self.assertTrue(r["annotations"]["summary"])
        for wanted in ("TimepoolDnsStaleSnapshot", "TimepoolNoMonitorResults", "TimepoolWebErrors",
                       "TimepoolMailStuck", "TimepoolMailFailing"):
            self.assertIn(wanted, seen)

    def test_every_metric_exists(self):
        pages = {}
        for name, port in (("dns", self.dns.metrics_port), ("web", self.web.metrics_port)):
            pages[name] = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                                 timeout=5).read().decode()
        # The web's request counters appear once a request was answered.
        webtest.Client(self.web).get("/")
        pages["web"] = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.web.metrics_port,
                                              timeout=5).read().decode()
        exported = metric_names(pages["dns"]) | metric_names(pages["web"])
        texts = [r["expr"] for r in self.rules()]
        texts += re.findall(r'query "([^"]*)"', yaml.safe_dump(self.doc))
        for text in texts:
            for name in expr_names(text):
                with self.subTest(metric=name):
                    self.assertTrue(name in exported or name in PROMETHEUS_OWN,
                                    "%s is on no daemon's /metrics" % name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
