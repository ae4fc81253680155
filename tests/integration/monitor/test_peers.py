#!/usr/bin/env python3
"""timepool-monitor against real NTP servers on loopback addresses.

In a network namespace of its own (so 127.0.0.x addresses and port 123 are private to the
test) it starts:
  127.0.0.11  chronyd -x, healthy (local stratum 2)
  127.0.0.12  chronyd -x under libfaketime, 5 s ahead
  127.0.0.13  ntpsec with `restrict default kod limited` (answers RATE kiss-o'-death)
  127.0.0.14  a socket that never answers (silent)
  127.0.0.15  a responder that answers with a wrong origin timestamp
  127.0.0.16  a responder that answers correctly but from another port
  127.0.0.17  ntpsec, healthy (orphan stratum 4)
checks them with `timepool-monitor check`, then runs timepool-monitor-api (as the
timepool_monitor role, on a fresh database) and timepool-monitor against it with a 1 s interval
and checks the probe log that the API wrote from the monitor's raw samples: the healthy servers' scores rise past 10 at the 14th probe, the wrong clock gets
-4 steps and the -20 cap, the KoD server -3.5 and ever longer gaps, the silent address and
both fake responders -5 per probe (their replies are ignored as unsolicited).
No daemon touches the clock: chronyd runs with -x, ntpd without CAP_SYS_TIME.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import tptest  # noqa: E402
from tptest import BIN, CTL, MONITOR, MONITOR_API  # noqa: E402
import apitest  # noqa: E402
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

HEALTHY_CHRONY, FAST_CLOCK, KOD, SILENT, WRONG_ORIGIN, OTHER_PORT, HEALTHY_NTPSEC = (
    "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15", "127.0.0.16", "127.0.0.17")
ADDRESSES = [HEALTHY_CHRONY, FAST_CLOCK, KOD, SILENT, WRONG_ORIGIN, OTHER_PORT, HEALTHY_NTPSEC]
RUN_SECONDS = 24

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, text=True, capture_output=True, **kw)


# --- outside the namespace ----------------------------------------------------------------
def outer():
    tptest.require_root("network namespace, port 123, chronyd/ntpd")
    for tool in ("chronyd", "ip", "setpriv", "psql", "createdb"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} not found (run deploy/install-deps.sh)")
            return 1
    for path in (MONITOR, MONITOR_API, CTL, FAKETIME_LIB):
        if not os.path.exists(path):
            print(f"FAIL: {path} missing (build timepool-monitor and timepoolctl; install faketime)")
            return 1
    ntpd = sh(os.path.join(HERE, "fetch-ntpsec.sh"), os.path.join(BIN, "ntpsec-cache")).stdout.strip()
    ns = f"tpmon{os.getpid()}"
    sh("ip", "netns", "add", ns)
    try:
        env = dict(os.environ, TPMON_NTPD=ntpd)
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                               "--inside"], env=env).returncode
    finally:
        subprocess.run(["ip", "netns", "del", ns])


# --- fake peers -----------------------------------------------------------------------------
def fake_responder(addr, mode, stop):
    """Answers each request with a well-formed reply that must still be ignored."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 123))
    s.settimeout(0.2)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((addr, 1123))
    while not stop.is_set():
        try:
            data, peer = s.recvfrom(1024)
        except socket.timeout:
            continue
        if len(data) < 48:
            continue
        version = (data[0] >> 3) & 7
        transmit = data[40:48]
        now = time.time() + 2208988800
        ts = struct.pack("!II", int(now), int((now % 1) * 2**32))
        origin = transmit if mode == "other_port" else bytes(b ^ 0xFF for b in transmit)
        reply = bytes([(version << 3) | 4, 2, 6, 0xEC]) + struct.pack("!III", 0, 0, 0x7F000001)
        reply += ts + origin + ts + ts
        (other if mode == "other_port" else s).sendto(reply, peer)
    s.close()
    other.close()


def silent(addr, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 123))
    stop.wait()
    s.close()


# --- inside the namespace -------------------------------------------------------------------
def chrony_conf(d, addr, name):
    sock = os.path.join(d, name + "-sock")
    os.mkdir(sock)
    shutil.chown(sock, "_chrony", "_chrony")
    os.chmod(sock, 0o770)
    conf = os.path.join(d, name + ".conf")
    with open(conf, "w") as f:
        f.write(f"bindaddress {addr}\nport 123\nallow 127.0.0.0/8\nlocal stratum 2\ncmdport 0\n"
                f"bindcmdaddress {sock}/chronyd.sock\npidfile {d}/{name}.pid\n")
    return conf


def ntpsec_conf(d, addr, name, kod):
    conf = os.path.join(d, name + ".conf")
    with open(conf, "w") as f:
        # ntpd 1.2.2 binds every address on lo despite `interface ignore all`; only rules naming
        # an address keep it off the others' sockets.
        f.write("interface ignore wildcard\ninterface ignore ipv6\ninterface ignore 127.0.0.1\n")
        for other in ADDRESSES:
            if other != addr:
                f.write(f"interface ignore {other}\n")
        f.write(f"interface listen {addr}\ntos orphan 4 orphanwait 0\ndisable ntp\ndisable kernel\n")
        if kod:
            f.write("restrict default kod limited nomodify noquery\nlimit average 0.3 burst 4 kod 100\n")
        else:
            # ntpsec 1.2.2 silently drops a client after a burst of about 20 packets even without
            # `limited`; the test's 3 packets a second would only measure that.
            f.write("restrict default nomodify noquery\nlimit burst 10000\n")
    return conf


def monitor_check(addr, *extra):
    return subprocess.run([MONITOR, "check", addr, "--set", "monitor.packet_spacing_ms=200",
                           "--set", "monitor.packet_timeout_ms=500", *extra],
                          text=True, capture_output=True)


def wait_ready(addr, want, timeout=20):
    end = time.time() + timeout
    out = ""
    while time.time() < end:
        r = monitor_check(addr)
        out = r.stdout
        if want in out:
            return True
        time.sleep(0.3)
    print(f"{addr} not ready: {out.strip()}")
    return False


def rows(db, addr):
    return [(float(step), float(score), float(offset), error) for step, score, offset, error in db.q(
        "SELECT p.step, p.score, coalesce(p.offset_s, 'NaN'), coalesce(p.error, '') "
        "FROM probe_log p JOIN servers s ON s.id = p.server_id "
        "WHERE s.address = %s ORDER BY p.ts", addr)]


def probe_times(db, addr):
    return [float(t) for (t,) in db.q(
        "SELECT extract(epoch FROM p.ts) FROM probe_log p JOIN servers s ON s.id = p.server_id "
        "WHERE s.address = %s ORDER BY p.ts", addr)]


def inner():
    sh("ip", "link", "set", "lo", "up")
    for a in ADDRESSES:
        sh("ip", "addr", "add", a + "/32", "dev", "lo")
    work = tempfile.mkdtemp(prefix="tpmon-it-")
    os.chmod(work, 0o755)
    procs = []
    stop = threading.Event()
    threads = []
    db = None
    try:
        # Real servers.
        for addr, name, fake in ((HEALTHY_CHRONY, "healthy", False), (FAST_CLOCK, "fast", True)):
            env = dict(os.environ)
            if fake:
                env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME="+5s")
            procs.append(subprocess.Popen(["chronyd", "-x", "-d", "-4", "-f", chrony_conf(work, addr, name)],
                                          env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, name + ".log"), "w")))
        ntpd = os.environ["TPMON_NTPD"]
        for addr, name, kod in ((KOD, "kod", True), (HEALTHY_NTPSEC, "ntpsec", False)):
            # Without CAP_SYS_TIME ntpd cannot touch the clock, whatever it tries.
            procs.append(subprocess.Popen(["setpriv", "--bounding-set", "-sys_time", "--", ntpd, "-n", "-c",
                                           ntpsec_conf(work, addr, name, kod), "-l", os.path.join(work, name + ".log")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # Fake peers.
        threads.append(threading.Thread(target=silent, args=(SILENT, stop)))
        threads.append(threading.Thread(target=fake_responder, args=(WRONG_ORIGIN, "wrong_origin", stop)))
        threads.append(threading.Thread(target=fake_responder, args=(OTHER_PORT, "other_port", stop)))
        for t in threads:
            t.start()

        check(wait_ready(HEALTHY_CHRONY, "stratum 2"), "chronyd answers")
        check(wait_ready(FAST_CLOCK, "offset +5.0"), "chronyd under faketime answers 5 s ahead")
        check(wait_ready(HEALTHY_NTPSEC, "stratum 4"), "ntpsec answers")
        check(wait_ready(KOD, "kod RATE"), "ntpsec with kod limited sends RATE")

        # One-shot mode: what `timepool-monitor check` prints and returns.
        r = monitor_check(HEALTHY_CHRONY)
        check(r.returncode == 0 and "stratum 2, leap 0" in r.stdout, f"check healthy: {r.stdout.strip()}")
        r = monitor_check(HEALTHY_NTPSEC)
        check(r.returncode == 0 and "stratum 4, leap 0" in r.stdout, f"check ntpsec: {r.stdout.strip()}")
        r = monitor_check(FAST_CLOCK)
        check(r.returncode == 0 and "offset +5.0" in r.stdout, f"check fast clock: {r.stdout.strip()}")
        r = monitor_check(SILENT)
        check(r.returncode == 1 and "error: timeout" in r.stdout, f"check silent: {r.stdout.strip()}")
        r = monitor_check(WRONG_ORIGIN)
        check(r.returncode == 1 and "error: timeout" in r.stdout, f"check wrong origin: {r.stdout.strip()}")

        # Database, monitor identity, servers.
        db = tptest.Database("tpmon_")
        conninfo = db.conninfo()
        out = sh(CTL, "--set", f"database.conninfo={conninfo}", "monitor", "add", "itest", "--status", "active").stdout
        key = re.search(r"key: ([0-9a-f]+)", out).group(1)
        for a in ADDRESSES:
            db.q("INSERT INTO servers (address, country) VALUES (%s, 'de')", a)

        api_conninfo, _ = apitest.monitor_role_conninfo(db)
        conf = os.path.join(work, "timepool.toml")
        with open(conf, "w") as f:
            f.write(f"""[database]
conninfo = "{api_conninfo}"
[log]
level = "debug"
[monitor_api]
listen = "127.0.0.1:8443"
plain_http = true
interval_ms = 1000
refresh_ms = 500
slow_interval_ms = 2000
min_spacing_ms = 100
metrics_listen = "127.0.0.1:9126"
[monitor]
key = "{key}"
url = "http://127.0.0.1:8443"
spool_dir = "{work}/spool"
new_server_within_ms = 200
packet_spacing_ms = 200
packet_timeout_ms = 500
batch_interval_ms = 200
trust_local_clock = true
metrics_listen = "127.0.0.1:9124"
""")
        api_log = open(os.path.join(work, "api.log"), "w")
        api = subprocess.Popen([MONITOR_API, "-c", conf], stdout=api_log, stderr=subprocess.STDOUT)
        procs.append(api)
        tptest.wait_until(lambda: "monitor API on" in open(os.path.join(work, "api.log")).read(), 10, "API start")

        # A wrong key is refused.
        r = subprocess.run([MONITOR, "-c", conf, "--set", "monitor.key=00"],
                           text=True, capture_output=True, timeout=30)
        check(r.returncode == 1 and "unknown monitor key" in r.stderr, "an unknown key is refused")

        mon_log = open(os.path.join(work, "monitor.log"), "w")
        mon = subprocess.Popen([MONITOR, "-c", conf], stdout=mon_log, stderr=subprocess.STDOUT)
        procs.append(mon)
        time.sleep(RUN_SECONDS)
        metrics = urllib.request.urlopen("http://127.0.0.1:9124/metrics", timeout=5).read().decode()
        # SIGHUP re-reads the file: batching changes at once, the interval only on restart.
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("batch_interval_ms = 200", "batch_interval_ms = 300")
                        .replace("new_server_within_ms = 200", "new_server_within_ms = 300"))
        mon.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        check(mon.poll() is None, "the monitor keeps running after SIGHUP")
        mon.send_signal(signal.SIGTERM)
        check(mon.wait(timeout=30) == 0, "the monitor stops cleanly on SIGTERM")
        mon_log.close()
        with open(os.path.join(work, "monitor.log")) as f:
            log_text = f.read()
        check("new_server_within_ms change only on restart" in log_text and
              "reloaded the configuration (SIGHUP)" in log_text,
              "SIGHUP: batching reloaded, new_server_within_ms named as restart-only")
        spooled = [n for n in os.listdir(os.path.join(work, "spool")) if n.endswith(".json") and n != "assignment.json"]
        check(not spooled, "every batch was acknowledged before the monitor stopped (%s left)" % spooled)
        check(not os.listdir(os.path.join(work, "spool", "rejected")), "the API refused no batch")
        check("stopping (SIGTERM)" in log_text, "the monitor logs the signal that stopped it")

        # --- what the probe log shows -----------------------------------------------------------
        for addr, name in ((HEALTHY_CHRONY, "chronyd"), (HEALTHY_NTPSEC, "ntpsec")):
            r = rows(db, addr)
            check(len(r) >= 16, f"{name}: {len(r)} probes in {RUN_SECONDS} s at a 1 s interval")
            check(all(step == 1 for step, *_ in r),
                  f"{name}: every step is +1 (errors seen: {sorted(set(e for *_, e in r if e))})")
            check(all(abs(off) < 0.01 for _, _, off, _ in r), f"{name}: offsets within 10 ms")
            crossed = next((i + 1 for i, (_, score, _, _) in enumerate(r) if score >= 10), None)
            check(crossed == 14, f"{name}: score passes 10 at probe {crossed} (expected 14)")
            check(all(abs(score - 20 * (1 - 0.95 ** (i + 1))) < 1e-4 for i, (_, score, _, _) in enumerate(r)),
                  f"{name}: score follows 20*(1-0.95^n)")
            pool = float(db.one("SELECT score FROM servers WHERE address = %s", addr))
            check(pool >= 10, f"{name}: pool score {pool:.2f} >= 10 (in DNS)")

        r = rows(db, FAST_CLOCK)
        check(len(r) >= 10, f"fast clock: {len(r)} probes")
        check(all(step == -4 for step, *_ in r), "fast clock: every step is -4")
        check(all(abs(off - 5.0) < 0.05 for _, _, off, _ in r), "fast clock: offsets are +5 s")
        check(r and r[0][1] == -20, f"fast clock: the first probe hits the -20 cap ({r[0][1] if r else None})")
        check(len(r) > 1 and abs(r[1][1] - (-23)) < 1e-4, "fast clock: then 0.95*-20-4 = -23")

        r = rows(db, KOD)
        times = probe_times(db, KOD)
        healthy_n = len(rows(db, HEALTHY_CHRONY))
        check(len(r) >= 2, f"kod: {len(r)} probes")
        check(all(step == -3.5 and err == "kod RATE" for step, _, _, err in r), "kod: every step is -3.5 (RATE)")
        gaps = [round(b - a, 1) for a, b in zip(times, times[1:])]
        check(all(b > a * 1.5 for a, b in zip(gaps, gaps[1:])) and len(r) <= healthy_n // 3,
              f"kod: the monitor backs off (gaps {gaps} s; {len(r)} probes vs {healthy_n})")

        for addr, name in ((SILENT, "silent"), (WRONG_ORIGIN, "wrong origin"), (OTHER_PORT, "other port")):
            r = rows(db, addr)
            check(len(r) >= 10, f"{name}: {len(r)} probes")
            check(all(step == -5 and err == "timeout" for step, _, _, err in r),
                  f"{name}: every step is -5 (no response; replies ignored)")
        m = re.search(r"timepool_monitor_unsolicited_total (\d+)", metrics)
        check(m is not None and int(m.group(1)) > 0, f"metrics count unsolicited replies ({m.group(1) if m else None})")
        check('timepool_monitor_probes_total{result="kod_rate"}' in metrics, "metrics have probes by result")
        check("timepool_monitor_own_clock_trusted 1" in metrics, "metrics say the clock is only trusted")
    finally:
        stop.set()
        for t in threads:
            t.join()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if db:
            db.close()
        if failures:
            for name in ("monitor", "api", "healthy", "fast", "kod", "ntpsec"):
                path = os.path.join(work, name + ".log")
                if os.path.exists(path):
                    print(f"--- {name}.log (last lines)")
                    print("".join(open(path).readlines()[-15:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(inner() if "--inside" in sys.argv else outer())
