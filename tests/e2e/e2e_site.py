"""What every browser test run (run_e2e.py, run_mail.py, run_pages.py) does around its own
seeding: installs the browser driver, makes the screenshot folder, runs one journey script in
headless Chromium against the real timepool-web, and stops the site, whose exit code must be 0.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "web"))
import webtest  # noqa: E402,F401  (the callers' way to tptest and the web helpers)


def screenshot_dir(*parts, clear=False):
    """Installs the driver (install.sh) and returns $TIMEPOOL_BINARY_DIR/<parts>, made (and
    emptied with clear=True)."""
    subprocess.run([os.path.join(HERE, "install.sh")], check=True)
    shots = os.path.join(os.environ["TIMEPOOL_BINARY_DIR"], *parts)
    os.makedirs(shots, exist_ok=True)
    if clear:
        for old in os.listdir(shots):
            os.remove(os.path.join(shots, old))
    return shots


def journey(script, base_url, shots, **env):
    """Runs tests/e2e/<script> in node with BASE_URL, SHOTS and `env`; its exit code."""
    full = dict(os.environ, BASE_URL=base_url, SHOTS=shots, **env)
    return subprocess.run(["node", os.path.join(HERE, script)], env=full, cwd=HERE,
                          timeout=300).returncode


def stop_site(web, rc):
    """Stops timepool-web; `rc`, or 1 when the site did not exit cleanly."""
    web_rc = web.stop()
    if web_rc != 0:
        print("timepool-web exited with", web_rc)
        return 1
    return rc
