"""Run every benchmark once and print the figures (``make bench``; ``--help`` for options).

This app, stock mozilla-django-oidc (``mdo.py``) and a framework floor
(``floor.py``) each run in their own process against one fake ScotAccount in a
further process, over HTTPS with keep-alive, HTTPS with every connection closed
by the server, and plain HTTP. Rounds are interleaved (ours, MDO, floor, ours,
...) and medians reported, so a busy machine slows all three alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
APPS = ("ours", "mdo", "floor")
PERSONA = "morag"
#: Ports from this project's benchmark range (9200-9299).
GUNICORN_PORT = 9210
TRANSPORTS = {
    "https-keepalive": {"tls": True, "close": False},
    "https-close": {"tls": True, "close": True},
    "http": {"tls": False, "close": False},
}


def say(line: str = "") -> None:
    print(line, flush=True)


# Database -----------------------------------------------------------------------------------


def postgres_reachable(name: str) -> bool:
    """Recreate database ``name`` on the loopback PostgreSQL; False if there is none."""
    try:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            user="postgres",
            dbname="postgres",
            autocommit=True,
            connect_timeout=3,
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        say(f"PostgreSQL not reachable ({type(error).__name__}): using SQLite instead")
        return False
    return True


# The fake ScotAccount, in its own process ---------------------------------------------------


class Fake:
    """``python -m scotaccount_django_testing.fake`` with auto-approve."""

    def __init__(self, workdir: Path, *, tls: bool, close: bool, origins: list[str]) -> None:
        command = [
            PYTHON,
            "-m",
            "scotaccount_django_testing.fake",
            "--port=0",
            "--attributes-port=0",
            "--client-id=bench-client",
            f"--client-key={workdir / 'rp-public.pem'}",
            f"--auto-approve={PERSONA}",
        ]
        for origin in origins:
            for path in ("/scotaccount/callback/", "/oidc/callback/", "/floor/callback/"):
                command.append(f"--redirect-uri={origin}{path}")
        if tls:
            command.append(f"--tls-dir={workdir / 'tls'}")
        if close:
            command.append("--close-connections")
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        lines = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            name, _, value = line.strip().partition(": ")
            lines[name] = value
            if name == "Client id":
                break
        self.issuer = lines["Discovery URL"].removesuffix("/.well-known/openid-configuration")
        parts = urlsplit(lines["Attributes URL"])
        self.attributes_origin = f"{parts.scheme}://{parts.netloc}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the fake's process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


# Relying parties, each in its own process ---------------------------------------------------


class Worker:
    def __init__(self, app: str, env: dict[str, str]) -> None:
        self.app = app
        self.process = subprocess.Popen(
            [PYTHON, "-m", "tests.benchmarks.worker"],
            cwd=ROOT,
            env={**env, "BENCH_APP": app},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.app} worker died (see its output above)")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.app}: {answer['error']}")
        return answer

    def call(self, command: str, *args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": command, "args": list(args)}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write('{"cmd": "quit"}\n')
        self.process.stdin.close()
        self.process.wait(timeout=30)


def base_env(workdir: Path, fake: Fake, postgres: bool, origin: str) -> dict[str, str]:
    bundle = workdir / "ca-bundle.pem"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "BENCH_DIR": str(workdir),
        "BENCH_KEY_FILE": str(workdir / "rp-key.pem"),
        "BENCH_ISSUER": fake.issuer,
        "BENCH_ATTRIBUTES_ORIGIN": fake.attributes_origin,
        "BENCH_ORIGIN": origin,
        "BENCH_DB": "postgres" if postgres else "sqlite",
        "PYTHONPATH": str(ROOT),
    }
    if fake.issuer.startswith("https:"):
        # Every client trusts the system's bundle plus the fake's CA, so each pays what it
        # would against the real service (loading a full bundle is most of a new TLS
        # connection's cost); through the environment for clients that read it.
        bundle.write_bytes(
            Path(certifi.where()).read_bytes() + (workdir / "tls/ca.pem").read_bytes()
        )
        env |= {"BENCH_CA_FILE": str(bundle), "REQUESTS_CA_BUNDLE": str(bundle)}
        env |= {"SSL_CERT_FILE": str(bundle), "CURL_CA_BUNDLE": str(bundle)}
    return env


@contextmanager
def setup(
    workdir: Path,
    transport: str,
    postgres: bool,
    apps: tuple[str, ...] = APPS,
    origin: str = "http://testserver",
) -> Iterator[tuple[Fake, dict[str, Worker], dict[str, str]]]:
    options = TRANSPORTS[transport]
    fake = Fake(
        workdir,
        tls=options["tls"],
        close=options["close"],
        origins=["http://testserver", f"http://127.0.0.1:{GUNICORN_PORT}"],
    )
    workers: dict[str, Worker] = {}
    try:
        env = base_env(workdir, fake, postgres, origin)
        for app in apps:
            workers[app] = Worker(app, env)
            workers[app].call("signin", 3)  # warm: caches, connections, first user
        yield fake, workers, env
    finally:
        for worker in workers.values():
            worker.stop()
        fake.stop()


# Measurements -------------------------------------------------------------------------------


def interleaved(workers: dict[str, Worker], command: str, rounds: int, n: int) -> dict[str, float]:
    """Median over rounds of each worker's mean CPU ms; the order rotates every round."""
    results: dict[str, list[float]] = {app: [] for app in workers}
    order = list(workers)
    for number in range(rounds):
        for app in order[number % len(order) :] + order[: number % len(order)]:
            results[app].append(workers[app].call(command, n)["cpu_ms"])
    return {app: statistics.median(values) for app, values in results.items()}


def sign_in_loop(
    base: str, fake_ca: str | bool, login_path: str, stop: threading.Event, done: list[int]
) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            response = session.get(base + login_path, allow_redirects=False, timeout=30)
            hop = session.get(
                response.headers["Location"], allow_redirects=False, timeout=30, verify=fake_ca
            )
            callback = urlsplit(hop.headers["Location"])
            final = session.get(
                f"{base}{callback.path}?{callback.query}", allow_redirects=False, timeout=30
            )
            if final.status_code != 302 or not final.headers["Location"].endswith("/signed-in/"):
                raise RuntimeError(f"gunicorn sign-in failed: {final.status_code}")
            done.append(1)


def throughput(env: dict[str, str], app: str, workers: int, seconds: float) -> float:
    """Sign-ins per second through gunicorn (sync workers), driven by 2 threads per worker."""
    from tests.benchmarks import LOGIN_PATHS

    base = f"http://127.0.0.1:{GUNICORN_PORT}"
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "tests.benchmarks.wsgi:application",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{GUNICORN_PORT}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env={**env, "BENCH_APP": app, "BENCH_ORIGIN": base},
    )
    try:
        for _ in range(100):
            try:
                requests.get(base + "/untouched/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        ca = env.get("BENCH_CA_FILE") or True
        stop, done, threads = threading.Event(), [], []
        for _ in range(2 * workers):
            thread = threading.Thread(
                target=sign_in_loop, args=(base, ca, LOGIN_PATHS[app], stop, done), daemon=True
            )
            thread.start()
            threads.append(thread)
        time.sleep(2)  # warm-up: every worker's caches and connections
        before, started = len(done), time.perf_counter()
        time.sleep(seconds)
        rate = (len(done) - before) / (time.perf_counter() - started)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        return rate
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def purge(env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of ``scotaccount_purge`` in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "django",
            "scotaccount_purge",
            "--attributes-older-than=30",
            "--skip-checks",
        ],
        cwd=ROOT,
        env={**env, "BENCH_APP": "ours"},
        stdout=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stdout is not None
    say("  purge said: " + " ".join(process.stdout.read().split()))
    if status != 0:
        raise RuntimeError("scotaccount_purge failed")
    return elapsed, usage.ru_maxrss / 1024


# The run ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table at scale")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure")
    parser.add_argument("--sign-ins", type=int, default=20, help="sign-ins per app per round")
    parser.add_argument(
        "--fake-sign-ins",
        type=int,
        default=10_000,
        help="sign-ins for the fake's cost-over-time figure",
    )
    parser.add_argument("--seconds", type=float, default=10, help="per gunicorn throughput run")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="scotaccount-bench-"))
    key = ec.generate_private_key(ec.SECP256R1())
    (workdir / "rp-key.pem").touch(mode=0o600)
    (workdir / "rp-key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (workdir / "rp-public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    postgres = postgres_reachable("perf")
    try:
        run(args, workdir, postgres)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path, postgres: bool) -> None:
    from tests.benchmarks import DIFFERENCES

    say("== scotaccount-django benchmarks ==")
    say(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    say(
        f"python {platform.python_version()}; database: "
        + ("PostgreSQL (database 'perf')" if postgres else "SQLite (PostgreSQL not reachable)")
        + "; database sessions; LocMem cache per process"
    )
    say(f"rounds {args.rounds} x {args.sign_ins} sign-ins per app, interleaved; medians")
    say("MDO (stock mozilla-django-oidc, tests/benchmarks/mdo.py) differs from ours in:")
    for difference in DIFFERENCES:
        say(f"  - {difference}")
    say(
        "floor: one ES256 assertion, one pooled POST, one RS256 check, one indexed lookup, "
        "auth.login"
    )

    migrate_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "BENCH_DIR": str(workdir),
        "BENCH_DB": "postgres" if postgres else "sqlite",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [PYTHON, "-m", "django", "migrate", "-v0", "--skip-checks"],
        cwd=ROOT,
        env=migrate_env,
        check=True,
    )

    for transport in TRANSPORTS:
        say()
        say(f"-- {transport}: relying-party CPU per warm sign-in (ms, process CPU) --")
        with setup(workdir, transport, postgres) as (fake, workers, env):
            cpu = interleaved(workers, "signin", args.rounds, args.sign_ins)
            for app in APPS:
                say(f"[{transport}] {app:<5} {cpu[app]:7.2f} ms")
            say(f"[{transport}] ratio mdo/ours cpu: {cpu['mdo'] / cpu['ours']:.2f}")
            say(f"[{transport}] ours/floor cpu: {cpu['ours'] / cpu['floor']:.2f}")
            if transport == "https-keepalive":
                details(args, fake, workers, env)
    scale(args, workdir, postgres)


def details(
    args: argparse.Namespace, fake: Fake, workers: dict[str, Worker], env: dict[str, str]
) -> None:
    ours = workers["ours"]
    step_up = statistics.median(
        ours.call("stepup", args.sign_ins)["cpu_ms"] for _ in range(args.rounds)
    )
    say(f"[https-keepalive] ours step-up {step_up:7.2f} ms (MDO and floor have no step-up)")

    say()
    say("-- client assertion signing (advice: prefer an EC P-256 client key) --")
    for name, micros in signing_costs().items():
        say(f"{name:<22} {micros:7.0f} us per assertion")

    say()
    say("-- outbound HTTP requests, cache operations and SQL statements --")
    for app, worker in workers.items():
        counts = worker.call("counts")
        for kind in ("warm", "cold", "stepup_warm", "stepup_cold"):
            if kind in counts:
                c = counts[kind]
                say(
                    f"{app:<5} {kind:<11} outbound {c['outbound']}  cache ops {c['cache_ops']:3}  "
                    f"SQL: start {c['start_queries']:2}, callback {c['callback_queries']:2}   "
                    f"{c['outbound_detail']}"
                )
        say(f"{app:<5} protected page SQL {counts['protected_queries']}")

    say()
    say("-- SessionLifetimeMiddleware overhead (ours, signed in) --")
    m = ours.call("middleware", 300)
    for path in ("/untouched/", "/reads-user/"):
        with_, without = m[f"{path} with cpu_us"], m[f"{path} without cpu_us"]
        say(
            f"{path:<13} queries {m[f'{path} with queries']} vs {m[f'{path} without queries']} "
            f"without; CPU {with_:6.0f} vs {without:6.0f} us: +{(with_ / without - 1) * 100:.1f}%"
        )

    say()
    say("-- peak Python memory per sign-in (separate pass, tracemalloc) --")
    for app, worker in workers.items():
        say(f"{app:<5} {worker.call('memory', 20)['peak_kib']:7.0f} KiB")

    say()
    say("-- gunicorn throughput (sync workers, fake over HTTPS keep-alive) --")
    commit = ours.call("commit_latency", 20)["ms"]
    say(f"(one committed write takes {commit:.1f} ms here: sync workers wait for each commit)")
    for app in ("ours", "mdo"):
        for count in (1, 2):
            rate = throughput(env, app, count, args.seconds)
            say(f"{app:<5} {count} worker(s): {rate:6.1f} sign-ins/s")

    say()
    say(f"-- the fake's CPU per sign-in over {args.fake_sign_ins} sign-ins --")
    block = max(args.fake_sign_ins // 10, 1)
    costs = []
    for _ in range(args.fake_sign_ins // block):
        before = fake.cpu_seconds()
        ours.call("signin", block)
        costs.append((fake.cpu_seconds() - before) * 1000 / block)
    say("fake ms/sign-in per block: " + " ".join(f"{cost:.2f}" for cost in costs))
    say(
        f"first block {costs[0]:.2f} ms, last block {costs[-1]:.2f} ms "
        f"(ratio {costs[-1] / costs[0]:.2f})"
    )
    profile(ours)


def signing_costs() -> dict[str, float]:
    """Median microseconds to sign one client assertion, per key type."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    claims = {"iss": "c", "sub": "c", "aud": "https://x/token", "exp": 2_000_000_000, "jti": "j"}
    keys = {
        "ES256 (EC P-256)": (ec.generate_private_key(ec.SECP256R1()), "ES256"),
        "RS256 (RSA-3072)": (
            rsa.generate_private_key(public_exponent=65537, key_size=3072),
            "RS256",
        ),
    }
    costs = {}
    for name, (key, algorithm) in keys.items():
        durations = []
        for _ in range(200):
            started = time.perf_counter()
            jwt.encode(claims, key, algorithm=algorithm)
            durations.append(time.perf_counter() - started)
        costs[name] = statistics.median(durations) * 1e6
    return costs


def profile(ours: Worker) -> None:
    say()
    say("-- profile: where ours spends a warm sign-in (cProfile, separate pass) --")
    say(ours.call("profile", 20)["text"].strip())


def scale(args: argparse.Namespace, workdir: Path, postgres: bool) -> None:
    say()
    say("-- scale: latency (wall, median ms) with rows in every table --")
    with setup(workdir, "https-keepalive", postgres, apps=("ours",)) as (_, workers, env):
        ours = workers["ours"]
        filled = 0
        for rows in sorted({1000, args.rows}):
            seconds = ours.call("fill", filled + 1, rows)["seconds"]
            filled = rows
            latency = ours.call("latency", 30)
            say(
                f"{rows:>9} rows (filled in {seconds:.0f} s): "
                f"callback {latency['callback_ms']:6.2f} ms "
                f"(CPU {latency['callback_cpu_ms']:5.2f}), "
                f"protected page {latency['protected_ms']:5.2f} ms "
                f"(CPU {latency['protected_cpu_ms']:5.2f})"
            )
            if rows == 1000:
                small = latency
        say(
            f"callback {latency['callback_ms'] / small['callback_ms']:.2f}x, protected page "
            f"{latency['protected_ms'] / small['protected_ms']:.2f}x at {args.rows} vs 1000 rows"
        )
        seconds, peak = purge(env)
        say(f"purge at {args.rows} rows: {seconds:.1f} s, peak memory {peak:.0f} MiB (RSS)")


if __name__ == "__main__":
    main()
