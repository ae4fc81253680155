#!/usr/bin/env python3
"""The mail sender of timepool-web against a real SMTP server (aiosmtpd): delivery with
STARTTLS and authentication, a relay that is down for a while (no message lost, none sent
twice), and two web instances sending from one outbox (each message once)."""

import collections
import os
import tempfile
import time

import webtest
from webtest import SmtpSink, WebServer


def queue(db, n, prefix="msg"):
    ids = []
    for i in range(n):
        ids.append(db.one("INSERT INTO mail_outbox (recipient, kind, subject, body) "
                          "VALUES (%s, 'test', %s, %s) RETURNING id",
                          "rcpt%d@example.org" % i, "%s %d" % (prefix, i),
                          "Body of %s %d\nÄ line with = and a long tail %s\n" % (prefix, i, "x" * 90)))
    return ids


def wait_sent(db, ids, timeout=60):
    webtest.tptest.wait_until(
        lambda: db.one("SELECT count(*) FROM mail_outbox WHERE id = ANY(%s) AND sent_at IS NOT NULL",
                       ids) == len(ids), timeout, "%d messages sent" % len(ids))


class Sender(webtest.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = webtest.TestDatabase()
        cls.pwfile = tempfile.NamedTemporaryFile("w", delete=False)
        cls.pwfile.write("relay secret\n")
        cls.pwfile.close()

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        os.unlink(cls.pwfile.name)

    def mail_settings(self, sink, **extra):
        s = {"transport": "smtp", "host": "127.0.0.1", "port": sink.port, "from": "pool@pool.test",
             "interval_seconds": 1, "retry_min_seconds": 1, "retry_max_seconds": 2}
        if sink.cert:
            s.update(tls="starttls", ca_file=sink.cert)
        else:
            s.update(tls="none")
        s.update(extra)
        return s

    def clear(self):
        self.db.sql("DELETE FROM mail_outbox")

    def test_starttls_and_auth(self):
        self.clear()
        sink = SmtpSink(tls=True, user="timepool", password="relay secret")
        web = WebServer(self.db, mail=self.mail_settings(
            sink, user="timepool", password_file=self.pwfile.name))
        try:
            ids = queue(self.db, 3, "tls")
            wait_sent(self.db, ids)
            got = sink.wait_messages(3)
            self.assertEqual(sorted(r[0] for r, _ in got),
                             ["rcpt0@example.org", "rcpt1@example.org", "rcpt2@example.org"])
            for _, m in got:
                self.assertEqual(m["From"], "pool@pool.test")
                self.assertTrue(m["Message-ID"].startswith("<timepool-"))
                self.assertIn("Ä line with = and a long tail " + "x" * 90, m.get_content())
            self.assertEqual(self.db.one("SELECT sum(attempts) FROM mail_outbox"), 3)
        finally:
            self.assertEqual(web.stop(), 0)
            sink.close()

    def test_wrong_password_retries_and_loses_nothing(self):
        self.clear()
        sink = SmtpSink(tls=True, user="timepool", password="another secret")
        web = WebServer(self.db, mail=self.mail_settings(
            sink, user="timepool", password_file=self.pwfile.name))
        try:
            ids = queue(self.db, 1, "auth")
            webtest.tptest.wait_until(
                lambda: self.db.one("SELECT attempts FROM mail_outbox WHERE id = %s", ids[0]) >= 2,
                30, "two failed attempts")
            row = self.db.q("SELECT sent_at, failed_at, last_error FROM mail_outbox")[0]
            self.assertIsNone(row[0])
            self.assertIsNone(row[1])
            self.assertIn("535", row[2])  # the relay's answer to the wrong password
            self.assertEqual(sink.messages(), [])
        finally:
            self.assertEqual(web.stop(), 0)
            sink.close()

    def test_relay_down_for_a_while_loses_nothing_and_sends_none_twice(self):
        self.clear()
        sink = SmtpSink()
        sink.stop()  # down from the start
        web = WebServer(self.db, mail=self.mail_settings(sink))
        try:
            ids = queue(self.db, 20, "down")
            webtest.tptest.wait_until(
                lambda: self.db.one("SELECT count(*) FROM mail_outbox WHERE attempts >= 2") >= 1,
                30, "retries while the relay is down")
            self.assertEqual(self.db.one("SELECT count(*) FROM mail_outbox WHERE sent_at IS NOT NULL"
                                         " OR failed_at IS NOT NULL"), 0)
            err = self.db.one("SELECT last_error FROM mail_outbox WHERE attempts > 0 LIMIT 1")
            self.assertIn("onnect", err)
            sink.start()  # the relay comes back on the same port
            wait_sent(self.db, ids, timeout=90)
            got = sink.wait_messages(20)
            time.sleep(2)  # a duplicate would arrive in the next rounds
            got = sink.messages()
            self.assertEqual(len(got), 20)
            counts = collections.Counter(m["Message-ID"] for _, m in got)
            self.assertEqual(max(counts.values()), 1)
            self.assertEqual(sorted(m["Subject"] for _, m in got),
                             sorted("down %d" % i for i in range(20)))
            self.assertIn("retry in", web.log_text())
        finally:
            self.assertEqual(web.stop(), 0)
            sink.close()

    def test_two_senders_send_each_message_once(self):
        self.clear()
        sink = SmtpSink()
        ids = queue(self.db, 150, "pair")
        settings = self.mail_settings(sink, batch=5)
        a = WebServer(self.db, mail=settings)
        b = WebServer(self.db, mail=settings)
        try:
            wait_sent(self.db, ids, timeout=120)
            time.sleep(1.5)
            got = sink.messages()
            self.assertEqual(len(got), 150)
            self.assertEqual(len({m["Message-ID"] for _, m in got}), 150)
            self.assertEqual(self.db.one("SELECT max(attempts) FROM mail_outbox"), 1)
            # Both took part.
            self.assertIn("sent after", a.log_text())
            self.assertIn("sent after", b.log_text())
        finally:
            self.assertEqual(a.stop(), 0)
            self.assertEqual(b.stop(), 0)
            sink.close()


if __name__ == "__main__":
    webtest.main()
