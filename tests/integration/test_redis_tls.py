"""test_redis_tls.py — tickq over TLS (rediss://) against Debian's
redis-server on a tls-port: jobs, `tickq result` and `stats`, the scheduler
and the users' list over TLS; a CA tickq does not trust, an expired
certificate, a certificate for another name, verification off, a client
certificate the server requires, TLS to a plain-text port and plain text to
a TLS port (exit 69, a message that says what is wrong, within the timeout),
and the settings (TICKQ_REDIS_CACERT, TICKQ_REDIS_CERT, TICKQ_REDIS_KEY,
TICKQ_REDIS_TLS_VERIFY) refused with exit 78.

The certificates are made with the openssl CLI in a temp folder: a CA, a
server certificate for localhost and 127.0.0.1, an expired one, one for
another name, a second CA, and client certificates of each CA."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest.mock

from harness import ROOT, TickqTestCase, Worker, free_port, tickq, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq_client  # noqa: E402
from tickq import Client  # noqa: E402

CERTS = None   # the folder of the certificates, made by setUpModule

# A refused connection gives up within the connect and command timeouts
# (5 s each): never a hang. Every call is bounded well above that.
BOUND = 30


def openssl(*args):
    subprocess.run(["openssl"] + list(args), cwd=CERTS, check=True, capture_output=True, timeout=60)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt",
            "-days", "30", "-subj", f"/CN=tickq test {name}")


def make_cert(name, ca, san=None, days="30", subject="/CN=localhost", client=False):
    """A key and a certificate signed by `ca`; days "-1" makes it expired
    (valid until a day before it was made)."""
    with open(os.path.join(CERTS, f"{name}.ext"), "w") as f:
        if san:
            f.write(f"subjectAltName={san}\n")
        f.write(f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", days, "-extfile", f"{name}.ext")


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="tickq-tls-")
    make_ca("ca")
    make_ca("other-ca")
    make_cert("server", "ca", "DNS:localhost,IP:127.0.0.1")
    make_cert("expired", "ca", "DNS:localhost,IP:127.0.0.1", days="-1")
    make_cert("elsewhere", "ca", "DNS:redis.elsewhere.example", subject="/CN=redis.elsewhere.example")
    make_cert("client", "ca", subject="/CN=tickq-worker", client=True)
    make_cert("stranger", "other-ca", subject="/CN=stranger", client=True)
    openssl("pkey", "-in", "client.key", "-aes256", "-passout", "pass:secret", "-out", "client-encrypted.key")
    with open(os.path.join(CERTS, "not-pem.crt"), "w") as f:
        f.write("this is not a certificate\n")


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def cert(name):
    return os.path.join(CERTS, name)


class TlsCase(TickqTestCase):
    """A redis-server with a plain-text TCP port, a TLS port serving the
    certificate `server_cert` (client certificates: `auth_clients`), and
    its unix socket (plain text: the test's own client)."""
    tcp = True
    server_cert = "server"
    auth_clients = "no"

    @classmethod
    def setUpClass(cls):
        cls.tls_port = free_port()
        cls.redis_args = ["--tls-port", str(cls.tls_port), "--tls-cert-file", cert(f"{cls.server_cert}.crt"),
                          "--tls-key-file", cert(f"{cls.server_cert}.key"), "--tls-ca-cert-file", cert("ca.crt"),
                          "--tls-auth-clients", cls.auth_clients]
        super().setUpClass()

    def rediss(self, host="127.0.0.1"):
        return f"rediss://{host}:{self.tls_port}/0"

    def env(self, **extra):
        """tickq's environment: trusts the test CA, plus `extra`."""
        return {"TICKQ_REDIS_CACERT": cert("ca.crt"), **extra}

    def run_tls(self, *args, env=None, url=None):
        return tickq(*args, url=url or self.rediss(), env=self.env() if env is None else env, timeout=BOUND)

    def tls_worker(self, *args, env=None):
        w = Worker(self.rediss(), "--workers", "1", *args, env=self.env() if env is None else env)
        self.workers.append(w)
        return w

    def clients_over_tls(self):
        """The connections Redis serves on its TLS port."""
        return [c for c in self.r.client_list() if c.get("laddr", "").endswith(f":{self.tls_port}")]

    def refused(self, p, *needles):
        """p exited 69 (Redis unavailable) and its message holds every needle."""
        self.assertEqual(p.returncode, 69, p.stdout + p.stderr)
        for n in needles:
            self.assertIn(n, p.stderr)


class TestOverTls(TlsCase):
    def test_worker_enqueue_result_stats_over_tls(self):
        p = self.run_tls("enqueue", "echo", json.dumps({"a": 1}))
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = p.stdout.strip()
        self.assertEqual(self.state(jid), "queued")   # it reached this Redis
        w = self.tls_worker()
        self.wait_state(jid, "completed")
        p = self.run_tls("result", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["data"]["a"], 1)
        names = {c.get("name") for c in self.clients_over_tls()}
        self.assertTrue(any(n and n.startswith("tickq") for n in names), names)
        p = self.run_tls("stats", url=self.rediss("localhost"))   # by name: SNI and the name check
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("backtest_normal", p.stdout)
        self.assertEqual(w.stop(), 0, w.log())
        self.assertIn(f"rediss://127.0.0.1:{self.tls_port}/0", w.log())

    def test_worker_reconnects_over_tls_after_a_redis_restart(self):
        """Redis restarts (without persistence: tickq's function library is
        gone too): the running worker's connections come back over TLS and
        take a job enqueued afterwards."""
        w = self.tls_worker()
        first = self.run_tls("enqueue", "noop").stdout.strip()
        self.wait_state(first, "completed")             # the worker runs
        self.server.stop()
        self.server.start()
        self.r = self.server.client()
        p = self.run_tls("enqueue", "echo", json.dumps({"after": "restart"}))
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = p.stdout.strip()
        self.wait_state(jid, "completed", timeout=30)
        self.assertEqual(self.result(jid)["data"]["after"], "restart")
        self.assertIn("reconnected to Redis", w.log())
        self.assertEqual(w.stop(), 0, w.log())

    def test_check_names_the_tls_url(self):
        p = self.run_tls("worker", "--check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   redis: rediss://127.0.0.1:{self.tls_port}/0 answers", p.stdout)

    def test_list_protocol_and_scheduler_over_tls(self):
        """The list's import and its watch (a BLMOVE on a connection of its
        own) and the scheduler's connection, all over TLS."""
        tmp = tempfile.mkdtemp(prefix="tickq-tls-sched-")
        self.addCleanup(shutil.rmtree, tmp, True)
        schedules = os.path.join(tmp, "schedules.ini")
        with open(schedules, "w") as f:
            f.write("[scheduler]\nlease_ttl = 1s\n\n[schedule minutely]\ncron = * * * * *\ntask = echo\n"
                    'args = {"from": "scheduler"}\n')
        self.r.hset("tickq:scheduler:last", "minutely", str(int(time.time() - 600)))
        w = self.tls_worker("--scheduler", "--config", schedules)
        fired = wait_for(lambda: self.r.keys("tickq:job:minutely:*"), timeout=15, what="the scheduler's job")
        self.wait_state(fired[0][len("tickq:job:"):], "completed")
        wait_for(lambda: any(c.get("name") == "tickq-list-watch" for c in self.clients_over_tls()), timeout=10,
                 what="the list watch's TLS connection")
        tickq_client.add_task(self.r, "from-the-list", "echo", {"b": 2})
        self.wait_state("from-the-list", "completed")
        self.assertEqual(self.result("from-the-list")["data"]["b"], 2)
        self.assertIn("tickq-scheduler", {c.get("name") for c in self.clients_over_tls()})
        self.assertEqual(w.stop(), 0, w.log())

    def test_unknown_ca_is_refused(self):
        """A CA that did not sign Redis's certificate, or the system's
        store (which does not hold the test CA): exit 69, naming the
        problem and the fix; a worker exits 69 too."""
        for env in (self.env(TICKQ_REDIS_CACERT=cert("other-ca.crt")), {}):
            with self.subTest(env=env):
                p = self.run_tls("enqueue", "noop", env=env)
                self.refused(p, "certificate verify failed", "TICKQ_REDIS_CACERT", "TICKQ_REDIS_TLS_VERIFY=0")
                self.assertRegex(p.stderr, "unable to get local issuer certificate|self-signed certificate")
        p = self.run_tls("worker", env=self.env(TICKQ_REDIS_CACERT=cert("other-ca.crt")))
        self.refused(p, "certificate verify failed")
        self.assertEqual(self.r.dbsize(), 0)

    def test_verify_off_connects_without_the_ca(self):
        p = self.run_tls("enqueue", "noop", "{}", "--id", "unverified", env={"TICKQ_REDIS_TLS_VERIFY": "0"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.state("unverified"), "queued")
        p = self.run_tls("worker", "--check", env={"TICKQ_REDIS_TLS_VERIFY": "0"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("(TLS certificate not verified)", p.stdout)

    def test_plain_url_to_the_tls_port(self):
        p = tickq("enqueue", "noop", url=f"redis://127.0.0.1:{self.tls_port}/0", timeout=BOUND)
        self.refused(p, "rediss://")
        self.assertEqual(self.r.dbsize(), 0)

    def test_tls_to_a_plain_port(self):
        """The plain-text port never answers a TLS handshake the way TLS
        does: refused within the timeout, never sent in plain text."""
        t0 = time.monotonic()
        p = self.run_tls("enqueue", "noop", url=f"rediss://127.0.0.1:{self.server.port}/0")
        self.refused(p, "TLS handshake", "does this port speak TLS")
        self.assertLess(time.monotonic() - t0, BOUND)
        self.assertEqual(self.r.dbsize(), 0)

    def test_bad_settings_exit_78(self):
        cases = [
            ({"TICKQ_REDIS_CACERT": cert("missing.crt")}, "TICKQ_REDIS_CACERT=" + cert("missing.crt") +
             " cannot be read: No such file or directory"),
            ({"TICKQ_REDIS_CACERT": CERTS}, f"TICKQ_REDIS_CACERT={CERTS} is not a file"),
            ({"TICKQ_REDIS_CACERT": cert("not-pem.crt")}, "holds no usable CA certificate"),
            ({"TICKQ_REDIS_CERT": cert("client.crt")}, "TICKQ_REDIS_CERT is set but TICKQ_REDIS_KEY is not"),
            ({"TICKQ_REDIS_CERT": cert("not-pem.crt"), "TICKQ_REDIS_KEY": cert("client.key")},
             "is not a usable certificate"),
            ({"TICKQ_REDIS_CERT": cert("client.crt"), "TICKQ_REDIS_KEY": cert("server.key")},
             "does not belong to the certificate"),
            ({"TICKQ_REDIS_CERT": cert("client.crt"), "TICKQ_REDIS_KEY": cert("client-encrypted.key")},
             "is not a usable private key (PEM, not encrypted)"),
            ({"TICKQ_REDIS_TLS_VERIFY": "no"}, "TICKQ_REDIS_TLS_VERIFY='no' is not 0 or 1"),
            ({"TICKQ_REDIS_TLS_VERIFY": "0"}, "TICKQ_REDIS_CACERT is set but TICKQ_REDIS_TLS_VERIFY=0"),
        ]
        for extra, needle in cases:
            for command in (("enqueue", "noop"), ("worker",)):
                with self.subTest(extra=extra, command=command[0]):
                    p = self.run_tls(*command, env=self.env(**extra), )
                    self.assertEqual(p.returncode, 78, p.stderr)
                    self.assertIn(needle, p.stderr)
        # TLS settings with a plain URL would be ignored: refused instead.
        p = tickq("stats", url=self.server.url, env={"TICKQ_REDIS_CACERT": cert("ca.crt")}, timeout=BOUND)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("TICKQ_REDIS_CACERT is set but the Redis URL is not rediss://", p.stderr)
        self.assertEqual(self.r.dbsize(), 0)


class TestExpiredCertificate(TlsCase):
    server_cert = "expired"

    def test_expired_certificate_is_refused(self):
        p = self.run_tls("enqueue", "noop")
        self.refused(p, "certificate verify failed: certificate has expired", "CN=localhost",
                     "renew it on the server")
        p = self.run_tls("worker")
        self.refused(p, "certificate has expired")
        # Verification off accepts it (the operator's choice, said in logs).
        p = self.run_tls("enqueue", "noop", env={"TICKQ_REDIS_TLS_VERIFY": "0"})
        self.assertEqual(p.returncode, 0, p.stderr)


class TestCertificateForAnotherName(TlsCase):
    server_cert = "elsewhere"

    def test_name_mismatch_is_refused(self):
        p = self.run_tls("enqueue", "noop")
        self.refused(p, "certificate verify failed: IP address mismatch", "CN=redis.elsewhere.example")
        p = self.run_tls("enqueue", "noop", url=self.rediss("localhost"))
        self.refused(p, "certificate verify failed: hostname mismatch")
        p = self.run_tls("enqueue", "noop", env={"TICKQ_REDIS_TLS_VERIFY": "0"})
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_the_python_client_checks_the_name_too(self):
        import redis
        self.load_library()
        with unittest.mock.patch.dict(os.environ, {"TICKQ_REDIS_CACERT": cert("ca.crt")}):
            os.environ.pop("TICKQ_REDIS_TLS_VERIFY", None)
            for host in ("localhost", "127.0.0.1"):
                with self.subTest(host=host):
                    with self.assertRaisesRegex(redis.exceptions.ConnectionError, "mismatch|doesn't match"):
                        Client(self.rediss(host)).enqueue("noop", id=f"by-{host}")
        self.assertEqual(self.r.keys("tickq:job:*"), [])


class TestPythonClientOverTls(TlsCase):
    """tickq.Client over rediss:// with tickq's own TLS settings."""

    def client(self, **env):
        with unittest.mock.patch.dict(os.environ, env, clear=False):
            for k in ("TICKQ_REDIS_CACERT", "TICKQ_REDIS_CERT", "TICKQ_REDIS_KEY", "TICKQ_REDIS_TLS_VERIFY"):
                if k not in env:
                    os.environ.pop(k, None)
            return Client(self.rediss())

    def test_enqueue_and_wait_over_tls(self):
        self.load_library()
        c = self.client(TICKQ_REDIS_CACERT=cert("ca.crt"))
        jid = c.enqueue("echo", {"py": 1})
        self.tls_worker()
        self.assertEqual(c.wait(jid, timeout=20)["py"], 1)
        self.assertEqual(self.client(TICKQ_REDIS_TLS_VERIFY="0").enqueue("noop", id="unverified"), "unverified")

    def test_an_untrusted_certificate_is_refused(self):
        self.load_library()
        import redis
        c = self.client()   # the system's trust store: not the test CA
        with self.assertRaisesRegex(redis.exceptions.ConnectionError, "certificate verify failed"):
            c.enqueue("noop")
        c = self.client(TICKQ_REDIS_CACERT=cert("other-ca.crt"))
        with self.assertRaisesRegex(redis.exceptions.ConnectionError, "certificate verify failed"):
            c.enqueue("noop")
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_bad_settings_are_refused(self):
        cases = [
            ({"TICKQ_REDIS_TLS_VERIFY": "no"}, "TICKQ_REDIS_TLS_VERIFY is 'no'"),
            ({"TICKQ_REDIS_CERT": cert("client.crt")}, "TICKQ_REDIS_CERT and TICKQ_REDIS_KEY go together"),
            ({"TICKQ_REDIS_CACERT": cert("ca.crt"), "TICKQ_REDIS_TLS_VERIFY": "0"},
             "TICKQ_REDIS_CACERT is set but TICKQ_REDIS_TLS_VERIFY=0"),
        ]
        for env, needle in cases:
            with self.subTest(env=env):
                with self.assertRaisesRegex(ValueError, needle):
                    self.client(**env)
        with unittest.mock.patch.dict(os.environ, {"TICKQ_REDIS_CACERT": cert("ca.crt")}):
            with self.assertRaisesRegex(ValueError, "TICKQ_REDIS_CACERT is set but the Redis URL is not rediss://"):
                Client(self.server.url)


class TestClientCertificateRequired(TlsCase):
    auth_clients = "yes"

    def test_the_python_client_with_the_client_certificate(self):
        self.load_library()
        env = {"TICKQ_REDIS_CACERT": cert("ca.crt"), "TICKQ_REDIS_CERT": cert("client.crt"),
               "TICKQ_REDIS_KEY": cert("client.key")}
        with unittest.mock.patch.dict(os.environ, env):
            jid = Client(self.rediss()).enqueue("noop")
        self.assertEqual(self.state(jid), "queued")

    def test_without_a_client_certificate_refused(self):
        p = self.run_tls("enqueue", "noop")
        self.refused(p, "TICKQ_REDIS_CERT and TICKQ_REDIS_KEY")
        self.assertEqual(self.r.dbsize(), 0)

    def test_a_certificate_of_another_ca_refused(self):
        p = self.run_tls("enqueue", "noop", env=self.env(TICKQ_REDIS_CERT=cert("stranger.crt"),
                                                         TICKQ_REDIS_KEY=cert("stranger.key")))
        self.refused(p, "Redis refused the client certificate in TICKQ_REDIS_CERT")
        self.assertEqual(self.r.dbsize(), 0)

    def test_with_the_client_certificate_a_job_completes(self):
        env = self.env(TICKQ_REDIS_CERT=cert("client.crt"), TICKQ_REDIS_KEY=cert("client.key"))
        p = self.run_tls("enqueue", "echo", json.dumps({"c": 3}), env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = p.stdout.strip()
        w = self.tls_worker(env=env)
        self.wait_state(jid, "completed")
        self.assertEqual(self.result(jid)["data"]["c"], 3)
        self.assertEqual(w.stop(), 0, w.log())
