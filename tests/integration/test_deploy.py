"""test_deploy.py — the deployment files of deploy/ (deploy/README.md) against
the built tickq, since none of them can run here (no Kubernetes, Docker or
Render): every YAML file parses (Debian's python3-yaml); every command runs
`tickq SUBCOMMAND` with flags its --help lists; probe, health-check and
scrape ports are the container's --http port; a non-loopback --http has
TICKQ_API_TOKEN; stop timeouts exceed the worker's --grace; KEDA's streams
follow docs/protocol.md for the queues the scaled workers serve; secrets are
placeholders that tickq itself refuses; the alert rules pass promtool and
name only series a real /metrics scrape of `tickq serve` and `tickq worker
--http` serves (with those labels)."""
import functools
import glob
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

import yaml
from prometheus_client.parser import text_string_to_metric_families

from harness import ROOT, TICKQ, TickqTestCase, free_port, wait_for

DEPLOY = os.path.join(ROOT, "deploy")
PLACEHOLDER = "CHANGE-ME"
# Files the issue asks for; more may come, and every one is checked.
REQUIRED = ["README.md", "tickq.ini", "docker-compose.yaml", "render.yaml", "kubernetes/secret.yaml",
            "kubernetes/configmap.yaml", "kubernetes/worker.yaml", "kubernetes/scheduler.yaml",
            "kubernetes/api.yaml", "keda/scaledobject-worker.yaml", "prometheus/alerts.yaml",
            "prometheus/scrape.yaml", "systemd/tickq-worker.service", "systemd/tickq-scheduler.service",
            "systemd/tickq-api.service", "systemd/env.example"]


def path(rel):
    return os.path.join(DEPLOY, rel)


def read(rel):
    with open(path(rel)) as f:
        return f.read()


def rel_files(pattern):
    return sorted(os.path.relpath(p, DEPLOY) for p in glob.glob(path(pattern), recursive=True))


def yaml_files():
    return rel_files("**/*.yaml") + rel_files("**/*.yml")


@functools.lru_cache(maxsize=None)
def documents(rel):
    with open(path(rel)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def k8s_objects(kind):
    """(file, object) of every Kubernetes or KEDA object of that kind."""
    return [(rel, d) for rel in yaml_files() if rel.startswith(("kubernetes/", "keda/"))
            for d in documents(rel) if isinstance(d, dict) and d.get("kind") == kind]


def duration_s(text):
    """Seconds of a duration as tickq, compose and systemd write them: 500ms, 5s, 10m, 1h, or bare seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", str(text))
    assert m, f"not a duration: {text!r}"
    return float(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


# --- what the built tickq says it takes --------------------------------------

# An option line starts at column 2; a wrapped help line that starts with a flag
# ("                       --workers") is not one.
OPTION_RE = re.compile(r"^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)(?: (\S+))?(?: {2,}(.*)|$)", re.M)


@functools.lru_cache(maxsize=None)
def help_text(sub=None):
    p = subprocess.run([TICKQ] + ([sub] if sub else []) + ["--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"tickq {sub} --help exited {p.returncode}: {p.stderr}"
    return p.stdout + p.stderr


@functools.lru_cache(maxsize=None)
def subcommands():
    text = help_text()
    block = text[text.index("commands:"):].split("\n\n")[0]
    return set(re.findall(r"^  ([a-z][a-z-]*)  ", block, re.M))


@functools.lru_cache(maxsize=None)
def options(sub):
    """{flag: takes a value} from the option lines of `tickq SUB --help`."""
    return {m.group(1): m.group(2) is not None for m in OPTION_RE.finditer(help_text(sub))}


def default_of(sub, flag, pattern=r"(\S+?)"):
    """The "(default: X)" of a flag's help line or its continuation lines
    (never the next flag's)."""
    m = re.search(r"^ {2,}%s (?:(?!\n {2,}-).)*?\(default: %s[),;]" % (re.escape(flag), pattern), help_text(sub),
                  re.M | re.S)
    assert m, f"tickq {sub} --help gives no default for {flag}"
    return m.group(1)


class Command:
    """One way a deployment runs tickq: where, the argv, its environment's
    names, and what was parsed from the argv."""

    def __init__(self, where, argv, env=()):
        self.where, self.argv, self.env = where, list(argv), set(env)
        self.sub, self.flags, self.errors = None, {}, []
        self._parse()

    def _parse(self):
        if not self.argv or os.path.basename(self.argv[0]) != "tickq":
            self.errors.append(f"does not run tickq: {self.argv}")
            return
        if len(self.argv) < 2 or self.argv[1] not in subcommands():
            self.errors.append(f"no tickq sub-command in {self.argv} (known: {sorted(subcommands())})")
            return
        self.sub = self.argv[1]
        known = options(self.sub)
        rest = self.argv[2:]
        i = 0
        while i < len(rest):
            arg = rest[i]
            name, eq, value = arg.partition("=")
            if not arg.startswith("--"):
                self.errors.append(f"unexpected argument {arg!r}")
            elif name not in known:
                self.errors.append(f"tickq {self.sub} has no flag {name} (tickq {self.sub} --help)")
            elif known[name] and not eq:
                if i + 1 >= len(rest) or rest[i + 1].startswith("--"):
                    self.errors.append(f"{name} needs a value")
                else:
                    self.flags[name] = rest[i + 1]
                    i += 1
            else:
                self.flags[name] = value if eq else True
            i += 1

    def http(self):
        """(address, port) of --http, or None."""
        value = self.flags.get("--http")
        if value is None:
            return None
        addr, _, port = value.rpartition(":")
        return addr.strip("[]") or "127.0.0.1", int(port)

    def grace_s(self):
        return duration_s(self.flags.get("--grace", default_of("worker", "--grace")))


def pod_env_names(container):
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        ref = source.get("secretRef") or source.get("configMapRef") or {}
        for rel, obj in k8s_objects("Secret") + k8s_objects("ConfigMap"):
            if obj["metadata"]["name"] == ref.get("name"):
                names |= set(obj.get("stringData", {})) | set(obj.get("data", {}))
    return names


def kubernetes_containers():
    """(file, deployment, container, Command) of every Deployment container."""
    out = []
    for rel, dep in k8s_objects("Deployment"):
        spec = dep["spec"]["template"]["spec"]
        for c in spec["containers"]:
            argv = c.get("command", []) + c.get("args", [])
            where = f"{rel} {dep['metadata']['name']}/{c['name']}"
            out.append((rel, dep, c, Command(where, argv, pod_env_names(c))))
    return out


def compose():
    return documents("docker-compose.yaml")[0]


def compose_commands():
    """(service name, service, Command) of the compose services that run the tickq image."""
    out = []
    for name, svc in compose()["services"].items():
        if "tickq" not in svc.get("image", ""):
            continue
        argv = svc["command"] if isinstance(svc["command"], list) else shlex.split(svc["command"])
        out.append((name, svc, Command(f"docker-compose.yaml {name}", argv, svc.get("environment", {}))))
    return out


def unit(rel):
    """A systemd unit as {section: {key: [values]}}."""
    sections, cur = {}, None
    for line in read(rel).splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            cur = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            cur.setdefault(key.strip(), []).append(value.strip())
    return sections


def env_file_names(rel):
    return {line.split("=", 1)[0] for line in read(rel).splitlines() if line and not line.startswith("#")}


def systemd_commands():
    out = []
    for rel in rel_files("systemd/*.service"):
        svc = unit(rel)["Service"]
        env = set()
        for ef in svc.get("EnvironmentFile", []):
            assert ef == "/etc/tickq/env", f"{rel}: EnvironmentFile={ef}, expected /etc/tickq/env"
            env |= env_file_names("systemd/env.example")
        (exec_start,) = svc["ExecStart"]
        out.append((rel, svc, Command(rel, shlex.split(exec_start), env)))
    return out


def render_commands():
    out = []
    for svc in documents("render.yaml")[0]["services"]:
        if "dockerCommand" in svc:
            env = {e["key"] for e in svc.get("envVars", []) if "key" in e}
            out.append((svc, Command(f"render.yaml {svc['name']}", shlex.split(svc["dockerCommand"]), env)))
    return out


def all_commands():
    return ([c for *_, c in kubernetes_containers()] + [c for *_, c in compose_commands()] +
            [c for *_, c in systemd_commands()] + [c for _, c in render_commands()])


def ini_scheduler_shutdown_wait_s():
    m = re.search(r"^\[scheduler\][^\[]*?^shutdown_wait\s*=\s*(\S+)", read("tickq.ini"), re.M | re.S)
    return duration_s(m.group(1)) if m else 5.0  # docs/scheduler.md: default 5s


class TestDeployFiles(unittest.TestCase):
    def test_every_yaml_file_parses(self):
        for rel in REQUIRED:
            self.assertTrue(os.path.isfile(path(rel)), f"deploy/{rel} is missing")
        files = yaml_files()
        self.assertGreaterEqual(len(files), 10, files)
        for rel in files:
            with self.subTest(file=rel):
                docs = documents(rel)
                self.assertTrue(docs, f"deploy/{rel} holds no YAML document")
                for d in docs:
                    self.assertIsInstance(d, dict, f"deploy/{rel}: a document is not a mapping")

    def test_every_command_runs_tickq_with_flags_that_exist(self):
        commands = all_commands()
        # Kubernetes 3, compose 3, systemd 3, Render 2.
        self.assertGreaterEqual(len(commands), 11, [c.where for c in commands])
        subs = {c.sub for c in commands}
        self.assertTrue({"worker", "scheduler", "serve"} <= subs, subs)
        for c in commands:
            with self.subTest(where=c.where):
                self.assertEqual(c.errors, [], f"{c.where}: {' '.join(c.argv)}")
                if "--grace" in c.flags:
                    self.assertGreater(duration_s(c.flags["--grace"]), 0)

    def test_a_wrong_flag_is_caught(self):
        """The parser above is what the other tests stand on: it refuses a
        flag tickq does not have, a missing value and a sub-command that
        does not exist."""
        self.assertIn("tickq worker has no flag --graze (tickq worker --help)",
                      Command("t", ["tickq", "worker", "--graze", "30"]).errors)
        self.assertIn("--http needs a value", Command("t", ["tickq", "serve", "--http"]).errors)
        self.assertTrue(Command("t", ["tickq", "workers"]).errors)
        self.assertTrue(Command("t", ["celery", "worker"]).errors)
        self.assertEqual(Command("t", ["tickq", "worker", "--burst", "--grace=5"]).errors, [])

    def test_a_non_loopback_http_has_the_api_token(self):
        for c in all_commands():
            bind = c.http()
            if bind is None:
                continue
            with self.subTest(where=c.where):
                addr = ipaddress.ip_address(bind[0]) if bind[0] != "localhost" else ipaddress.ip_address("127.0.0.1")
                if not addr.is_loopback:
                    self.assertIn("TICKQ_API_TOKEN", c.env,
                                  f"{c.where}: --http {c.flags['--http']} listens beyond this host without "
                                  "TICKQ_API_TOKEN: tickq refuses to start")

    def test_kubernetes_probes_and_ports_are_the_http_port(self):
        checked = 0
        for rel, dep, c, cmd in kubernetes_containers():
            bind = cmd.http()
            with self.subTest(where=cmd.where):
                if bind is None:
                    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                        self.assertNotIn("httpGet", c.get(probe, {}), f"{cmd.where}: an HTTP probe without --http")
                    continue
                port = bind[1]
                named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                self.assertIn(port, named.values(), f"{cmd.where}: containerPort {port} not declared")
                for probe, want in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
                    get = c.get(probe, {}).get("httpGet")
                    self.assertIsNotNone(get, f"{cmd.where}: no {probe}")
                    self.assertEqual(get["path"], want, f"{cmd.where}: {probe}")
                    got = named.get(get["port"]) if isinstance(get["port"], str) else get["port"]
                    self.assertEqual(got, port, f"{cmd.where}: {probe} port {get['port']} is not --http's {port}")
                ann = dep["spec"]["template"]["metadata"].get("annotations", {})
                if "prometheus.io/port" in ann:
                    self.assertEqual(int(ann["prometheus.io/port"]), port, f"{cmd.where}: prometheus.io/port")
                    self.assertEqual(ann.get("prometheus.io/path", "/metrics"), "/metrics")
                checked += 1
        self.assertGreaterEqual(checked, 2)
        # Each Service reaches the --http port of the pods it selects.
        services = k8s_objects("Service")
        self.assertTrue(services)
        for rel, svc in services:
            sel = svc["spec"]["selector"]
            pods = [(c, cmd) for _, dep, c, cmd in kubernetes_containers()
                    if all(dep["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
            self.assertTrue(pods, f"{rel}: Service {svc['metadata']['name']} selects no Deployment")
            for c, cmd in pods:
                named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                for p in svc["spec"]["ports"]:
                    target = p.get("targetPort", p["port"])
                    self.assertEqual(named.get(target) if isinstance(target, str) else target, cmd.http()[1],
                                     f"{rel}: Service port {p} does not reach --http of {cmd.where}")

    def test_stop_timeouts_exceed_the_grace(self):
        """Kubernetes, compose, systemd and Render each give a worker longer
        than its --grace to stop, and the scheduler longer than tickq.ini's
        shutdown_wait."""
        shutdown_wait = ini_scheduler_shutdown_wait_s()
        self.assertEqual(duration_s(default_of("worker", "--grace")), 30)

        def need(cmd):
            return {"worker": cmd.grace_s() if cmd.sub == "worker" else None,
                    "scheduler": shutdown_wait}.get(cmd.sub)

        seen = set()
        for _, dep, _, cmd in kubernetes_containers():
            if need(cmd) is not None:
                with self.subTest(where=cmd.where):
                    # Kubernetes' default is 30 s.
                    tgps = dep["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
                    self.assertGreater(tgps, need(cmd), f"{cmd.where}: terminationGracePeriodSeconds")
                    seen.add(("kubernetes", cmd.sub))
        for name, svc, cmd in compose_commands():
            if need(cmd) is not None:
                with self.subTest(where=cmd.where):
                    # docker's default is 10 s.
                    self.assertGreater(duration_s(svc.get("stop_grace_period", "10s")), need(cmd),
                                       f"{cmd.where}: stop_grace_period")
                    self.assertIn(svc.get("stop_signal", "SIGTERM"), ("SIGTERM", "TERM"))
                    seen.add(("compose", cmd.sub))
        for rel, svc, cmd in systemd_commands():
            if need(cmd) is not None:
                with self.subTest(where=cmd.where):
                    (timeout,) = svc["TimeoutStopSec"]
                    self.assertGreater(duration_s(timeout), need(cmd), f"{rel}: TimeoutStopSec")
                    seen.add(("systemd", cmd.sub))
        for svc, cmd in render_commands():
            if cmd.sub == "worker":
                with self.subTest(where=cmd.where):
                    # Render's default is 30 s.
                    self.assertGreater(svc.get("maxShutdownDelaySeconds", 30), need(cmd),
                                       f"{cmd.where}: maxShutdownDelaySeconds")
                    seen.add(("render", "worker"))
        for where in ("kubernetes", "compose", "systemd"):
            self.assertIn((where, "worker"), seen)
            self.assertIn((where, "scheduler"), seen)
        self.assertIn(("render", "worker"), seen)

    def test_kubernetes_references_resolve(self):
        """Secret keys, the ConfigMap and --config paths the pods use exist."""
        secrets = {o["metadata"]["name"]: set(o.get("stringData", {})) | set(o.get("data", {}))
                   for _, o in k8s_objects("Secret")}
        configmaps = {o["metadata"]["name"]: set(o.get("data", {})) for _, o in k8s_objects("ConfigMap")}
        for rel, dep, c, cmd in kubernetes_containers():
            with self.subTest(where=cmd.where):
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        self.assertIn(ref["key"], secrets.get(ref["name"], set()), f"{cmd.where}: env {e['name']}")
                files = set()
                volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"].get("volumes", [])}
                for m in c.get("volumeMounts", []):
                    cm = volumes[m["name"]].get("configMap")
                    if cm:
                        self.assertIn(cm["name"], configmaps, f"{cmd.where}: volume {m['name']}")
                        files |= {f"{m['mountPath']}/{k}" for k in configmaps[cm["name"]]}
                if "--config" in cmd.flags:
                    self.assertIn(cmd.flags["--config"], files, f"{cmd.where}: --config is not a mounted file")
        for name, svc, cmd in compose_commands():
            if "--config" in cmd.flags:
                mounts = {v.split(":")[1]: v.split(":")[0] for v in svc.get("volumes", [])}
                self.assertEqual(mounts.get(cmd.flags["--config"]), "./tickq.ini", cmd.where)

    def test_kustomization_lists_every_manifest(self):
        (k,) = documents("kubernetes/kustomization.yaml")
        manifests = [os.path.basename(r) for r in rel_files("kubernetes/*.yaml")
                     if not r.endswith("kustomization.yaml")]
        self.assertEqual(sorted(k["resources"]), sorted(manifests))

    def test_config_file_is_valid_and_the_configmap_holds_it(self):
        p = subprocess.run([TICKQ, "schedule", "list", "--config", path("tickq.ini")], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        (cm,) = [o for _, o in k8s_objects("ConfigMap")]
        self.assertEqual(cm["data"]["tickq.ini"], read("tickq.ini"),
                         "kubernetes/configmap.yaml's tickq.ini differs from deploy/tickq.ini: copy it there")

    def test_compose_ordering_health_and_ports(self):
        services = compose()["services"]
        self.assertTrue({"redis", "postgres", "worker", "scheduler", "api"} <= set(services), list(services))
        for name, svc, cmd in compose_commands():
            with self.subTest(service=name):
                deps = svc.get("depends_on", {})
                self.assertEqual(deps.get("redis", {}).get("condition"), "service_healthy", f"{name}: Redis first")
                if cmd.sub != "worker":
                    self.assertIn("worker", deps, f"{name}: workers before what enqueues")
                for spec in svc.get("ports", []):
                    self.assertTrue(str(spec).startswith("127.0.0.1:"), f"{name}: port {spec} is not on 127.0.0.1")
                test = svc.get("healthcheck", {}).get("test")
                if cmd.http() is None:
                    self.assertIsNone(test, f"{name}: a health check without --http")
                    continue
                self.assertIsNotNone(test, f"{name}: no health check")
                urls = re.findall(r"https?://[^\s\"']+", " ".join(test) if isinstance(test, list) else test)
                self.assertEqual(len(urls), 1, test)
                u = urllib.parse.urlsplit(urls[0])
                self.assertEqual(u.port, cmd.http()[1], f"{name}: health check port")
                self.assertIn(u.path, ("/health", "/health/live", "/health/ready"))
        (api,) = [svc for name, svc, cmd in compose_commands() if cmd.sub == "serve"]
        self.assertTrue(api.get("ports"), "the API's port is not published")

    def test_systemd_units(self):
        units = systemd_commands()
        self.assertEqual({c.sub for *_, c in units}, {"worker", "scheduler", "serve"})
        for rel, svc, cmd in units:
            with self.subTest(unit=rel):
                self.assertEqual(svc.get("Restart"), ["on-failure"])
                self.assertEqual(svc.get("KillSignal"), ["SIGTERM"])
                self.assertEqual(svc.get("KillMode"), ["mixed"], "SIGTERM to the supervisor alone")
                self.assertEqual(svc.get("EnvironmentFile"), ["/etc/tickq/env"])
                self.assertTrue(os.path.isabs(cmd.argv[0]), "systemd needs an absolute ExecStart path")

    def test_systemd_analyze_accepts_the_units(self):
        """systemd's own parser (systemd-analyze verify), on copies whose
        ExecStart runs the built tickq: no warning, no error."""
        tool = shutil.which("systemd-analyze")
        self.assertIsNotNone(tool, "systemd-analyze is missing: scripts/setup installs systemd")
        tmp = tempfile.mkdtemp(prefix="tickq-units-")
        self.addCleanup(shutil.rmtree, tmp)
        for rel in rel_files("systemd/*.service"):
            text = re.sub(r"^(ExecStart=)\S+", lambda m: m.group(1) + TICKQ, read(rel), flags=re.M)
            with open(os.path.join(tmp, os.path.basename(rel)), "w") as f:
                f.write(text)
        units = sorted(glob.glob(os.path.join(tmp, "*.service")))
        p = subprocess.run([tool, "verify"] + units, capture_output=True, text=True, timeout=60)
        # Users and groups are the host's business (the unit names tickq).
        problems = [line for line in (p.stdout + p.stderr).splitlines() if tmp in line]
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(problems, [])

    def test_render_blueprint(self):
        blueprint = documents("render.yaml")[0]
        types = {s["type"] for s in blueprint["services"]}
        self.assertTrue({"web", "worker"} <= types, types)
        for svc, cmd in render_commands():
            with self.subTest(service=svc["name"]):
                if svc["type"] == "web":
                    self.assertEqual(svc.get("healthCheckPath"), "/health")
                    port = {e["key"]: e.get("value") for e in svc["envVars"] if "key" in e}.get("PORT")
                    self.assertIsNotNone(cmd.http(), "the web service serves no --http")
                    self.assertEqual(int(port), cmd.http()[1], "Render's PORT is not --http's port")

    def test_secrets_are_placeholders(self):
        """No file holds a real secret: Kubernetes Secrets carry CHANGE-ME in
        stringData (never base64 data), URLs with a password have CHANGE-ME
        or a ${VAR} there, token and password settings are placeholders or
        references, and Render asks for its secret (sync: false) or wires it."""
        secrets = k8s_objects("Secret")
        self.assertTrue(secrets)
        for rel, s in secrets:
            self.assertNotIn("data", s, f"{rel}: base64 data hides what is committed; use stringData")
            self.assertTrue(s["stringData"])
        texts = {rel: read(rel) for rel in yaml_files() + rel_files("systemd/*")}
        for rel, text in texts.items():
            with self.subTest(file=rel):
                for m in re.finditer(r"\b[a-z][a-z0-9+]*://([^/\s:@\"'\[]+):([^@\s\"']*)@", text):
                    password = m.group(2)
                    self.assertTrue(password == PLACEHOLDER or password.startswith("${") or password == "...",
                                    f"{rel}: a URL with a real-looking password: {m.group(0)}")
                for m in re.finditer(r"^\s*-?\s*([A-Z_]*(?:TOKEN|PASSWORD|SECRET)[A-Z_]*)\s*[:=]\s*(.*)$", text,
                                     re.M):
                    value = m.group(2).strip().strip("\"'")
                    self.assertTrue(value in ("", PLACEHOLDER) or value.startswith("${"),
                                    f"{rel}: {m.group(1)} has a real-looking value")
        for svc in documents("render.yaml")[0]["services"]:
            for e in svc.get("envVars", []):
                if re.search(r"TOKEN|PASSWORD|SECRET|_URL$", e.get("key", "")):
                    self.assertNotIn("value", e, f"render.yaml {svc['name']}: {e['key']} has a literal value")

    def test_placeholder_tokens_are_refused_by_tickq(self):
        """A deployment whose secrets were not filled in does not start:
        tickq refuses the placeholder token (too short), exit 78."""
        tokens = {o["stringData"]["TICKQ_API_TOKEN"] for _, o in k8s_objects("Secret")}
        tokens |= {line.split("=", 1)[1] for line in read("systemd/env.example").splitlines()
                   if line.startswith("TICKQ_API_TOKEN=")}
        self.assertEqual(tokens, {PLACEHOLDER})
        for token in tokens:
            env = dict(os.environ, TICKQ_API_TOKEN=token, REDIS_URL="redis://127.0.0.1:1/0")
            p = subprocess.run([TICKQ, "serve", "--http", f"0.0.0.0:{free_port()}"], env=env, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 78, p.stderr)
            self.assertIn("TICKQ_API_TOKEN is 9 characters", p.stderr)

    def test_readme_names_every_file_and_says_none_was_run(self):
        readme = read("README.md")
        for rel in rel_files("**/*"):
            if os.path.isfile(path(rel)) and rel != "README.md":
                self.assertTrue(f"`{rel}`" in readme, f"deploy/README.md does not mention {rel}")
        self.assertIn("None of these files was run here", readme)
        self.assertIn("TICKQ_API_TOKEN", readme)


class TestKeda(unittest.TestCase):
    def protocol(self):
        with open(os.path.join(ROOT, "docs", "protocol.md")) as f:
            return f.read()

    def test_stream_triggers_follow_the_protocol_for_the_workers_queues(self):
        doc = self.protocol()
        m = re.search(r"^\| `<prefix>:queue:<queue>_<priority>` \| stream \|.*?consumer group `([^`]+)`", doc, re.M)
        self.assertIsNotNone(m, "docs/protocol.md no longer names the queue streams as this test reads them")
        group = m.group(1)
        self.assertRegex(doc, r"(?m)^\| `strategy_queue` \| list \|")
        default_prefix = default_of("worker", "--prefix", r"\$TICKQ_PREFIX or (\w+)")
        default_group = default_of("worker", "--group", r"\$TICKQ_GROUP or (\w+)")
        self.assertEqual(default_group, group)
        default_list = default_of("worker", "--list-queue", r"(\w+)")
        containers = {dep["metadata"]["name"]: (c, cmd) for _, dep, c, cmd in kubernetes_containers()}
        (secret,) = [o for _, o in k8s_objects("Secret")]
        redis = urllib.parse.urlsplit(secret["stringData"]["REDIS_URL"])
        auths = {o["metadata"]["name"]: o for _, o in k8s_objects("TriggerAuthentication")}
        scaled = k8s_objects("ScaledObject")
        self.assertTrue(scaled)
        targets = [o["spec"]["scaleTargetRef"]["name"] for _, o in scaled]
        self.assertEqual(len(targets), len(set(targets)), "KEDA refuses two ScaledObjects on one workload")
        kinds = set()
        for rel, so in scaled:
            target = so["spec"]["scaleTargetRef"]["name"]
            with self.subTest(scaledobject=so["metadata"]["name"]):
                self.assertIn(target, containers, f"{rel}: no Deployment {target}")
                c, cmd = containers[target]
                self.assertEqual(cmd.sub, "worker")
                env = {e["name"]: e.get("value") for e in c.get("env", [])}
                prefix = cmd.flags.get("--prefix") or env.get("TICKQ_PREFIX") or default_prefix
                self.assertNotIn("--group", cmd.flags)
                self.assertNotIn("TICKQ_GROUP", env)
                self.assertGreaterEqual(so["spec"].get("minReplicaCount", 0), 1,
                                        "at zero workers no one promotes retries and delayed jobs")
                want = set()
                for q in cmd.flags.get("--queues", "backtest").split(","):
                    if re.search(r"_(high|normal|low)$", q):
                        want.add(q)
                    else:
                        want |= {f"{q}_{p}" for p in ("high", "normal", "low")}
                streams = set()
                for t in so["spec"]["triggers"]:
                    md = t["metadata"]
                    self.assertEqual(md.get("address"), f"{redis.hostname}:{redis.port}",
                                     "the Redis of REDIS_URL in the Secret")
                    auth = auths[t["authenticationRef"]["name"]]
                    for ref in auth["spec"]["secretTargetRef"]:
                        self.assertIn(ref["key"], secret["stringData"])
                    kinds.add(t["type"])
                    if t["type"] == "redis-streams":
                        sm = re.fullmatch(r"([^:]+):queue:(\w+)", md["stream"])
                        self.assertIsNotNone(sm, md["stream"])
                        self.assertEqual(sm.group(1), prefix, md["stream"])
                        self.assertEqual(md.get("consumerGroup"), group, md["stream"])
                        self.assertTrue("lagCount" in md or "pendingEntriesCount" in md, md)
                        int(md.get("lagCount", md.get("pendingEntriesCount")))
                        streams.add(sm.group(2))
                    elif t["type"] == "redis":
                        self.assertEqual(md["listName"], cmd.flags.get("--list-queue", default_list))
                        self.assertGreater(int(md["listLength"]), 0)
                    else:
                        self.fail(f"unexpected trigger type {t['type']}")
                self.assertEqual(streams, want, "one lag trigger per physical queue the workers serve")
        self.assertEqual(kinds, {"redis-streams", "redis"})


# --- the alert rules against real scrapes --------------------------------------

SELECTOR_RE = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?")
MATCHER_RE = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"([^\"]*)\"")
GROUPING_RE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
# PromQL words that are not series.
PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "and", "or", "unless",
                "increase", "rate", "delta", "irate", "absent", "group_left", "group_right", "histogram_quantile",
                "bool", "offset"}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance", "pod"}


def selectors(expr):
    """(metric name, {label: (op, value)}) of each series selector in a PromQL expression."""
    expr = re.sub(r"\[[^\]]*\]", "", expr)            # range durations
    out = []
    for m in SELECTOR_RE.finditer(expr):
        name = m.group(1)
        if name in PROMQL_WORDS or re.fullmatch(r"\d.*", name):
            continue
        before = expr[:m.start()].rstrip()
        if before.endswith(("(", ",")) and re.search(r"\b(?:by|without|on|ignoring)\s*\([^)]*$", before):
            continue                                    # a grouping label
        if expr[m.end():].lstrip().startswith("(") and not m.group(2):
            continue                                    # a function call
        out.append((name, {k: (op, v) for k, op, v in MATCHER_RE.findall(m.group(2) or "")}))
    return out


class TestAlertRules(TickqTestCase):
    """The metric names and labels come from real scrapes, not from the
    source: `tickq serve` (the cluster's series) and `tickq worker --http`
    (a worker's own), parsed with prometheus_client's parser, after a job
    was enqueued and a misfire recorded so that every family has samples."""

    def promtool(self, *args):
        tool = shutil.which("promtool")
        self.assertIsNotNone(tool, "promtool is missing: scripts/setup installs Debian's prometheus")
        return subprocess.run([tool] + list(args), cwd=path("prometheus"), capture_output=True, text=True,
                              timeout=120)

    def test_promtool_checks_and_tests_the_rules(self):
        p = self.promtool("check", "rules", "alerts.yaml")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.promtool("test", "rules", "alerts_test.yaml")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS", p.stdout + p.stderr)

    def scrape(self, port):
        def get():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    return r.read().decode()
            except OSError:
                return None
        return wait_for(get, timeout=20, what=f"/metrics on port {port}")

    def served_series(self):
        """({name: {label: {values}}} of every sample and family the two
        processes serve, the names that had samples)."""
        self.enqueue("echo", {"a": 1})
        self.r.hset("tickq:scheduler:misfires", "end_of_day", 1)
        self.r.hset("tickq:scheduler:fires", "end_of_day", 3)
        serve_port, worker_port = free_port(), free_port()
        env = dict(os.environ, REDIS_URL=self.url)
        env.pop("TICKQ_API_TOKEN", None)
        log = tempfile.TemporaryFile()
        serve = subprocess.Popen([TICKQ, "serve", "--http", f"127.0.0.1:{serve_port}"], env=env, stdout=log,
                                 stderr=log)

        def stop():
            serve.terminate()
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
            log.close()
        self.addCleanup(stop)
        text = self.scrape(serve_port)
        self.worker("--workers", "1", "--http", f"127.0.0.1:{worker_port}", "--queues", "nothing_here")
        text += self.scrape(worker_port)
        series, sampled = {}, set()
        for fam in text_string_to_metric_families(text):
            names = {fam.name}
            if fam.type == "counter":
                names.add(fam.name + "_total")
            if fam.type == "histogram":
                names |= {fam.name + s for s in ("_bucket", "_sum", "_count")}
            for n in names:
                series.setdefault(n, {})
            for s in fam.samples:
                sampled.add(s.name)
                labels = series.setdefault(s.name, {})
                for k, v in s.labels.items():
                    labels.setdefault(k, set()).add(v)
        return series, sampled

    def test_alert_rules_name_only_served_series_and_labels(self):
        series, sampled = self.served_series()
        self.assertIn("tickq_redis_up", series)              # the cluster's, from serve
        self.assertIn("tickq_worker_busy_children", series)  # a worker's own
        rules = [r for g in documents("prometheus/alerts.yaml")[0]["groups"] for r in g["rules"]]
        jobs = {j["job_name"] for j in documents("prometheus/scrape.yaml")[0]["scrape_configs"]}
        used = set()
        for rule in rules:
            with self.subTest(alert=rule.get("alert")):
                self.assertTrue(rule.get("alert") and rule.get("expr"), rule)
                self.assertIn(rule.get("labels", {}).get("severity"), ("warning", "critical"))
                self.assertTrue(rule.get("annotations", {}).get("summary"))
                found = selectors(rule["expr"])
                self.assertTrue(found, rule["expr"])
                names = set()
                for name, matchers in found:
                    if name == "up":                            # Prometheus's own, per scrape job
                        self.assertIn(matchers.get("job", (None, None))[1], jobs, rule["expr"])
                        continue
                    self.assertTrue(name in series, f"{rule['alert']}: tickq serves no series {name}")
                    self.assertIn(name, sampled, f"{name}: the scrape had no sample to check the labels on")
                    for label, (op, value) in matchers.items():
                        self.assertIn(label, series[name], f"{rule['alert']}: {name} has no label {label}")
                        if op == "=":
                            self.assertIn(value, series[name][label], f"{rule['alert']}: {name}{{{label}=...}}")
                    names.add(name)
                used |= names
                labels = set(TARGET_LABELS)
                for n in names:
                    labels |= set(series[n])
                for group in GROUPING_RE.findall(rule["expr"]):
                    for label in filter(None, (x.strip() for x in group.split(","))):
                        self.assertIn(label, labels, f"{rule['alert']}: by/on label {label}")
        # The alerts the issue asks for.
        self.assertTrue({"tickq_queue_oldest_ready_age_seconds", "tickq_dead_letter_jobs", "tickq_workers_live",
                         "tickq_queue_jobs", "tickq_scheduler_misfires_total", "tickq_redis_up"} <= used, used)
        # The rules' unit tests feed only series tickq serves, with its labels.
        for test in documents("prometheus/alerts_test.yaml")[0]["tests"]:
            for s in test["input_series"]:
                ((name, matchers),) = selectors(s["series"])
                with self.subTest(series=s["series"]):
                    if name == "up":
                        continue
                    self.assertIn(name, series)
                    self.assertTrue(set(matchers) - TARGET_LABELS <= set(series[name]), s["series"])

    def test_selector_reader_finds_a_wrong_name_and_label(self):
        """The reader the test above relies on sees series, not functions,
        grouping labels or strings."""
        got = selectors('max by (queue) (tickq_x{state="ready", a=~"b c"}) > 3 and on() sum(increase(y_total[5m]))')
        self.assertEqual(got, [("tickq_x", {"state": ("=", "ready"), "a": ("=~", "b c")}), ("y_total", {})])

    def test_scrape_jobs_match_the_deployments(self):
        (scrape,) = documents("prometheus/scrape.yaml")
        jobs = {j["job_name"]: j for j in scrape["scrape_configs"]}
        self.assertEqual(set(jobs), {"tickq-cluster", "tickq-workers"})
        for j in jobs.values():
            self.assertEqual(j["authorization"]["type"], "Bearer", "/metrics needs the API token")
        (target,) = jobs["tickq-cluster"]["static_configs"][0]["targets"]
        host, port = target.rsplit(":", 1)
        (svc,) = [o for _, o in k8s_objects("Service") if host.split(".")[0] == o["metadata"]["name"]]
        self.assertIn(int(port), [p["port"] for p in svc["spec"]["ports"]])
        api = [cmd for _, dep, _, cmd in kubernetes_containers() if cmd.sub == "serve"]
        self.assertTrue(api)
        workers = [cmd for _, dep, _, cmd in kubernetes_containers() if cmd.sub == "worker"]
        for cmd in workers:
            self.assertNotIn("--cluster-metrics", cmd.flags, "the cluster's series come from tickq serve only")
        keep = [r for r in jobs["tickq-workers"]["relabel_configs"] if r.get("action") == "keep"]
        self.assertIn("worker", [r["regex"] for r in keep])


if __name__ == "__main__":
    unittest.main()
