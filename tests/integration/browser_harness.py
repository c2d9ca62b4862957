"""browser_harness.py — a real browser for the dashboard tests: Debian's
chromium driven by playwright-core (tests/browser/driver.mjs, installed by
scripts/setup with `npm ci` from the committed lockfile). Browser.call(op,
...) sends one command and returns its value; a failed command is an
AssertionError naming it. missing() says why no browser can run here (the
tests then skip, saying so)."""
import json
import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
CHROMIUM = os.environ.get("TICKQ_CHROMIUM", "/usr/bin/chromium")


def missing():
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"no chromium at {CHROMIUM} (scripts/setup installs Debian's chromium)"
    if shutil.which("node") is None:
        return "no node on PATH (scripts/setup installs Debian's nodejs when node is missing)"
    if not os.path.isfile(os.path.join(BROWSER_DIR, "node_modules", "playwright-core", "package.json")):
        return "playwright-core is not installed in tests/browser (scripts/setup runs npm ci there)"
    return None


class Browser:
    def __init__(self):
        self.proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "driver.mjs")], cwd=BROWSER_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, TICKQ_CHROMIUM=CHROMIUM))

    def call(self, op, **kw):
        self.proc.stdin.write(json.dumps(dict(kw, op=op)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise AssertionError(f"the browser driver ended during {op}: {self.proc.stderr.read()[-2000:]}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise AssertionError(f"browser {op} {kw}: {reply['error']}")
        return reply["value"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "close"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
