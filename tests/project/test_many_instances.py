"""The example project as two gunicorn servers sharing PostgreSQL and Redis.

Each server has two workers; the fake ScotAccount runs in its own process. The
test plays a load balancer: every request is sent to the server it chooses, so
a login, its callback and the next page land on different servers, one server
is restarted between a login and its callback, and a front-channel logout
received by one server ends a session made by the other. Nothing may depend on
one process's memory. Skipped, with the reason, without PostgreSQL or Redis.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.sessions.serializers import JSONSerializer
from django.core import signing

from scotaccount_django_testing.fake.browser import complete_authorization
from tests.flow_helpers import EXAMPLE_PROJECT, session_sid
from tests.ports import free_ports, ports_held

PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)
#: This suite's own port range (see the project's COMMON.md): servers, fake, public address.
PORTS = range(9300, 9400)
SECRET_KEY = "many-instances-test-not-secret"
STARTUP_SECONDS = 30


def no_control_socket() -> list[str]:
    """Recent gunicorn opens one control socket per user (~/.gunicorn/gunicorn.ctl) by default:
    servers of runs side by side (tox in parallel) would share it."""
    from gunicorn.config import KNOWN_SETTINGS

    known = any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)
    return ["--no-control-socket"] if known else []


def answers(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.processes,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not answers(PG), reason="no PostgreSQL server on 127.0.0.1:5432"),
    pytest.mark.skipif(not answers(REDIS), reason="no Redis server on 127.0.0.1:6379"),
]


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited on start:\n{log.read_text()[-3000:]}")
        try:
            requests.get(url, timeout=5, allow_redirects=False)
            return
        except requests.RequestException:  # not listening yet, or a worker still booting
            time.sleep(0.1)
    raise AssertionError(
        f"{url} did not answer in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Server:
    """One gunicorn server of the example project, two workers."""

    name: str
    port: int
    env: dict[str, str]
    logs: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.logs / f"{self.name}.log"
        command = [
            *(sys.executable, "-m", "gunicorn", "council.wsgi:application"),
            *("--chdir", str(EXAMPLE_PROJECT), "--workers", "2"),
            *("--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "2"),
            *no_control_socket(),
        ]
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        wait_for(f"{self.origin}/", self.process, log)
        served_by = requests.get(f"{self.origin}/", timeout=10).headers.get("Server", "")
        assert served_by.startswith("gunicorn"), f"port {self.port} is answered by {served_by}"

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def restart(self) -> None:
        """A new process: whatever the old one held in memory is gone."""
        old_pid = self.process.pid if self.process else None
        with ports_held():  # nobody may take the port while it is free
            self.stop()
            self.start()
        assert self.process is not None
        assert self.process.pid != old_pid


@dataclass
class Deployment:
    site_url: str
    issuer: str
    database: str
    a: Server
    b: Server
    servers: list[Server] = field(default_factory=list)


def psql(database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(host=PG[0], user="postgres", dbname=database, autocommit=True) as conn:
        cursor = conn.execute(sql.encode(), params)  # type: ignore[call-overload]
        return cursor.fetchall() if cursor.description else []


def write_key(directory: Path) -> Path:
    """The council's key pair: the private half for the servers, the public for the fake."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = directory / "private_key.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public = directory / "public_key.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (test dependency group)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (test dependency group)")
    directory = tmp_path_factory.mktemp("many_instances")
    database = f"prod_multi_{uuid.uuid4().hex[:10]}"
    prefix = f"prod-multi-{uuid.uuid4().hex}"
    processes: list[subprocess.Popen[bytes]] = []
    servers: list[Server] = []
    psql("postgres", f'CREATE DATABASE "{database}"')
    try:
        with ports_held():
            deployment = _start(directory, database, prefix, processes, servers)
        yield deployment
    finally:
        for server in servers:
            server.stop()
        for process in processes:
            stop(process)
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _delete_cache_keys(prefix)


def _start(
    directory: Path,
    database: str,
    prefix: str,
    processes: list[subprocess.Popen[bytes]],
    servers: list[Server],
) -> Deployment:
    """The fake, the schema and both servers, on ports chosen now."""
    public_key = write_key(directory)
    # The example settings put the fake's attributes issuer on the port after its own.
    public_port, fake_port, attributes_port, port_a, port_b = free_ports(5, PORTS)
    site_url = f"http://127.0.0.1:{public_port}"  # the load balancer's address: nothing binds it
    fake_log = directory / "fake.log"
    with fake_log.open("ab") as output:
        fake = subprocess.Popen(
            [
                *(sys.executable, "-m", "scotaccount_django_testing.fake"),
                *("--port", str(fake_port), "--attributes-port", str(attributes_port)),
                *("--client-id", "council-demo"),
                *("--client-key", str(public_key)),
                *("--redirect-uri", f"{site_url}/scotaccount/callback/"),
                *("--post-logout-redirect-uri", f"{site_url}/scotaccount/logged-out/"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    processes.append(fake)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "council.settings",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DEMO_DIR": str(directory),
        "DEMO_SITE_URL": site_url,
        "DEMO_POSTGRES_DB": database,
        "DEMO_REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "DEMO_CACHE_PREFIX": prefix,
        "FAKE_SCOTACCOUNT_PORT": str(fake_port),
    }
    wait_for(f"http://127.0.0.1:{fake_port}/.well-known/openid-configuration", fake, fake_log)
    migrate = [sys.executable, str(EXAMPLE_PROJECT / "manage.py"), "migrate", "-v", "0"]
    subprocess.run([*migrate, "--skip-checks"], env=env, check=True)
    a = Server("a", port_a, env, directory)
    b = Server("b", port_b, env, directory)
    servers.extend([a, b])
    a.start()
    b.start()
    return Deployment(site_url, f"http://127.0.0.1:{fake_port}", database, a, b)


def _delete_cache_keys(prefix: str) -> None:
    """Only this run's keys: the Redis server is shared (never FLUSHDB)."""
    import redis

    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=0)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


class Browser:
    """One person's browser behind the load balancer: the test picks the server per request."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.session = requests.Session()

    def to(self, server: Server, url: str) -> str:
        """``url`` (a path or an address on the public site) sent to ``server``."""
        parts = urlsplit(url)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != self.deployment.site_url:
            raise AssertionError(f"{url} is not on this site")
        return f"{server.origin}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def get(self, server: Server, url: str) -> requests.Response:
        return self.session.get(self.to(server, url), allow_redirects=False, timeout=10)

    def post(self, server: Server, url: str) -> requests.Response:
        token = self.session.cookies.get("csrftoken")
        assert token, "no CSRF cookie yet: visit a page with a form first"
        return self.session.post(
            self.to(server, url),
            data={"csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=10,
        )

    def sign_in(self, login: Server, callback: Server, **choices: Any) -> requests.Response:
        authorize = self.get(login, "/scotaccount/login/?next=/apply/")
        assert authorize.status_code == 302, authorize.text[:500]
        location = complete_authorization(
            authorize.headers["Location"], persona="morag", **choices
        )
        response = self.get(callback, location)
        assert response.status_code == 302, self.explain(response)
        return response

    def explain(self, response: requests.Response) -> str:
        """A failed answer, with what the servers and the fake logged."""
        logs = "\n".join(
            f"--- {path.name}\n{path.read_text()[-2000:]}"
            for path in sorted(self.deployment.a.logs.glob("*.log"))
        )
        return f"HTTP {response.status_code}: {response.text[:300]}\n{logs}"

    def is_signed_in(self, server: Server) -> bool:
        response = self.get(server, "/apply/")
        assert response.status_code in (200, 302), response.text[:500]
        return response.status_code == 200

    def session_data(self) -> dict[str, Any]:
        """The signed-in session as the servers stored it in PostgreSQL."""
        key = self.session.cookies.get("sessionid")
        [(data,)] = psql(
            self.deployment.database,
            "SELECT session_data FROM django_session WHERE session_key = %s",
            (key,),
        )
        return signing.loads(  # type: ignore[no-any-return]
            data,
            key=SECRET_KEY,
            salt="django.contrib.sessions.SessionStore",
            serializer=JSONSerializer,
        )


def login_callback_and_next_page_on_different_servers(deployment: Deployment) -> None:
    browser = Browser(deployment)
    a, b = deployment.a, deployment.b
    callback = browser.sign_in(login=a, callback=b)
    assert callback.status_code == 302, callback.text[:500]
    assert callback.headers["Location"] == "/apply/"
    assert browser.is_signed_in(a)
    assert browser.is_signed_in(b)


def a_server_restarted_between_login_and_callback(deployment: Deployment) -> None:
    browser = Browser(deployment)
    a, b = deployment.a, deployment.b
    authorize = browser.get(a, "/scotaccount/login/?next=/apply/")
    location = complete_authorization(authorize.headers["Location"], persona="morag")
    a.restart()
    callback = browser.get(a, location)
    assert callback.status_code == 302, callback.text[:500]
    assert callback.headers["Location"] == "/apply/"
    assert browser.is_signed_in(b)


def step_up_and_decline_across_servers(deployment: Deployment) -> None:
    browser = Browser(deployment)
    a, b = deployment.a, deployment.b
    browser.sign_in(login=b, callback=a)
    # The permit page needs a verified address: asked on A, started on B, answered on A.
    needs = browser.get(a, "/permit/")
    assert needs.status_code == 302
    authorize = browser.get(b, needs.headers["Location"])
    assert authorize.status_code == 302
    location = complete_authorization(authorize.headers["Location"], persona="morag")
    back = browser.get(a, location)
    assert back.status_code == 302, back.text[:500]
    permit = browser.get(b, back.headers["Location"])
    assert permit.status_code == 200
    assert "G62 7AA" in permit.text
    # Identity, declined at ScotAccount: recorded once, whichever server hears it.
    needs = browser.get(b, "/identity/")
    authorize = browser.get(a, needs.headers["Location"])
    location = complete_authorization(authorize.headers["Location"], persona="morag", cancel=True)
    assert browser.get(b, location).status_code == 302
    rows = psql(
        deployment.database,
        "SELECT missing_scopes FROM scotaccount_attributerequest ORDER BY id DESC LIMIT 1",
    )
    missing = rows[0][0]
    missing = json.loads(missing) if isinstance(missing, str) else missing
    assert missing == {"scotaccount.gpg45.medium": "declined"}


def logout_started_on_one_server_returns_to_the_other(deployment: Deployment) -> None:
    browser = Browser(deployment)
    a, b = deployment.a, deployment.b
    browser.sign_in(login=a, callback=b)
    assert browser.is_signed_in(a)  # the page's sign-out form sets the CSRF cookie
    logout = browser.post(b, "/scotaccount/logout/")
    assert logout.status_code == 302, logout.text[:500]
    end_session = logout.headers["Location"]
    assert end_session.startswith(deployment.issuer)
    returned = browser.session.get(end_session, allow_redirects=False, timeout=10)
    assert returned.status_code in (302, 303), returned.text[:500]
    logged_out = browser.get(a, returned.headers["Location"])
    assert logged_out.status_code in (200, 302)
    assert not browser.is_signed_in(b)
    assert not browser.is_signed_in(a)


def front_channel_logout_ends_a_session_made_on_the_other_server(
    deployment: Deployment,
) -> None:
    browser = Browser(deployment)
    a, b = deployment.a, deployment.b
    browser.sign_in(login=b, callback=b)
    sid = session_sid(browser.session_data())
    # ScotAccount's hidden iframe: no cookies of ours, and it reaches server A.
    frame = requests.get(
        f"{a.origin}/scotaccount/frontchannel-logout/",
        params={"iss": deployment.issuer, "sid": sid},
        timeout=10,
    )
    assert frame.status_code == 200
    assert not browser.is_signed_in(b)
    assert not browser.is_signed_in(a)


def test_flows_across_two_gunicorn_servers(deployment):
    """One test, so one worker runs it (xdist would start a deployment per worker)."""
    login_callback_and_next_page_on_different_servers(deployment)
    a_server_restarted_between_login_and_callback(deployment)
    step_up_and_decline_across_servers(deployment)
    logout_started_on_one_server_returns_to_the_other(deployment)
    front_channel_logout_ends_a_session_made_on_the_other_server(deployment)
