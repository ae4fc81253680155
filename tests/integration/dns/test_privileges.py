"""Port 53 as root, then running as an unprivileged user: in a private network namespace
(unshare -n), timepool-dns binds 127.0.0.1:53 as root, drops to `nobody` (dns.user), and
answers; its threads then run as nobody. Skipped (exit 77) when not root."""
import os
import subprocess
import tempfile

from dnstest import DNS_BIN, Database, check
from tptest import require_root

SCRIPT = r'''
set -e
ip link set lo up
"$DNS_BIN" --set "database.conninfo=$CONNINFO" --set 'dns.listen=["127.0.0.1:53"]' \
  --set dns.metrics_listen= --set dns.user=nobody --set "dns.snapshot_file=$WORK/snapshot" \
  >"$WORK/dns.log" 2>&1 &
pid=$!
for i in $(seq 1 100); do
  if dig +time=1 +tries=1 +short @127.0.0.1 -p 53 pool.example SOA >/dev/null 2>&1 && \
     [ -n "$(dig +short @127.0.0.1 -p 53 pool.example SOA)" ]; then break; fi
  sleep 0.1
done
echo "A: $(dig +short @127.0.0.1 -p 53 pool.example A | sort | tr '\n' ' ')"
echo "USER: $(ps -o user= -p $pid)"
echo "THREADUSERS: $(ps -L -o user= -p $pid | sort -u | tr '\n' ' ')"
kill -TERM $pid
wait $pid
echo "EXIT: $?"
'''


def main():
    require_root("binds port 53 and switches users")
    db = Database()
    work = tempfile.mkdtemp(prefix="tpdns-priv-")
    os.chmod(work, 0o1777)  # the snapshot file is written after the switch to nobody
    try:
        db.add_server("192.0.2.1", "lu", 1500)
        env = dict(os.environ, DNS_BIN=os.path.abspath(DNS_BIN), CONNINFO=db.conninfo(), WORK=work)
        out = subprocess.run(["unshare", "-n", "bash", "-c", SCRIPT], env=env, capture_output=True,
                             text=True, timeout=60)
        print(out.stdout, out.stderr)
        log = open(os.path.join(work, "dns.log")).read()
        print(log)
        check("A: 192.0.2.1" in out.stdout, "answers on port 53")
        check("USER: nobody" in out.stdout and "root" not in out.stdout.split("THREADUSERS:")[1],
              "runs as nobody, every thread")
        check("running as user nobody" in log, "the switch is logged")
        check("EXIT: 0" in out.stdout, "clean stop on SIGTERM")
    finally:
        db.close()
        subprocess.run(["rm", "-rf", work])
    print("PASS")


if __name__ == "__main__":
    main()
