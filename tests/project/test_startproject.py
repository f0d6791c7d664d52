"""Done when: a new ``django-admin startproject`` follows docs/installation.md and works.

The project gets an email-keyed user model and every ``<!-- docs-test: file PATH -->``
block of the installation guide, nothing else but its own choices (a port for the fake,
its own LOGIN_URL page). With system checks on, it migrates and creates a superuser while
the key is not there, generates the key, changes one setting, runs one command
(``manage.py scotaccount_fake``) and signs in and steps up over HTTP, as a browser would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from scotaccount_django_testing.fake.browser import complete_authorization
from tests.docs_blocks import DOCS, blocks
from tests.ports import free_ports, ports_held

pytestmark = [pytest.mark.startproject, pytest.mark.processes]

#: Where this test's servers may listen: the fake's sign-in and attributes ports, then the site.
PORTS = range(9600, 9700)
OWN_LOGIN_URL = "/choose-how-to-sign-in/"
TIMEOUT = 10
GUIDE = (DOCS / "installation.md").read_text()


def manage(project: Path, *args: str) -> str:
    """Run ``python manage.py ARGS`` in the new project, checks on, as the guide says."""
    command = f"python manage.py {' '.join(args)}"
    assert command.split(" --")[0] in GUIDE or args[0] == "startapp", f"not in the docs: {command}"
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=project_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def project_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment.update(
        DJANGO_SUPERUSER_EMAIL="admin@example.gov.scot",
        DJANGO_SUPERUSER_PASSWORD="a-long-test-only-password",
        PYTHONUNBUFFERED="1",
    )
    return environment


def start(project: Path, *args: str, log: str) -> subprocess.Popen[bytes]:
    with (project / log).open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=project,
            env=project_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}: {log.read_text()}")


@pytest.fixture
def project(tmp_path: Path, ports: Ports) -> Path:
    """``startproject council`` and ``startapp accounts``, then the guide's blocks."""
    django_admin = Path(sys.executable).with_name("django-admin")
    subprocess.run(
        [str(django_admin), "startproject", "council", str(tmp_path)],
        check=True,
        env=project_environment(),
        timeout=60,
    )
    manage(tmp_path, "startapp", "accounts")
    for block in blocks("file", "installation.md"):
        with (tmp_path / block.arg).open("a") as target:
            target.write("\n" + block.code)
    with (tmp_path / "council" / "settings.py").open("a") as settings:
        settings.write(
            f'\nLOGIN_URL = "{OWN_LOGIN_URL}"  # the council\'s own page\n'
            f"SCOTACCOUNT_LOCAL_PORT = {ports.fake}  # 8001 may be taken on a shared machine\n"
        )
    return tmp_path


@dataclass(frozen=True)
class Ports:
    fake: int
    attributes: int
    site: int

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site}"


@pytest.fixture
def ports() -> Iterator[Ports]:
    """Free ports, held (other runs wait) until this test's servers are gone."""
    with ports_held():
        yield Ports(*free_ports(3, PORTS))


@pytest.fixture
def servers(project: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    running: list[subprocess.Popen[bytes]] = []
    yield running
    for process in running:
        process.terminate()
        process.wait(timeout=10)


def test_a_new_project_follows_the_docs_and_signs_in_against_the_fake(
    project, servers, ports
) -> None:
    key = project / "secrets" / "scotaccount.pem"
    # Build steps, migration jobs and cron run where the key is not mounted.
    manage(project, "makemigrations", "accounts")
    manage(project, "migrate")
    manage(project, "createsuperuser", "--noinput")
    assert not key.exists()
    manage(project, "scotaccount_keygen", "secrets/scotaccount.pem")
    assert key.stat().st_mode & 0o077 == 0
    # The self-test passes on the project as the guide builds it (its own user model).
    assert "FAIL" not in manage(project, "scotaccount_selftest")

    # One setting, one command.
    settings = project / "council" / "settings.py"
    text = settings.read_text()
    assert text.count('SCOTACCOUNT_ENVIRONMENT = "integration"') == 1
    settings.write_text(text.replace('ENVIRONMENT = "integration"', 'ENVIRONMENT = "local"'))
    fake = start(project, "scotaccount_fake", "--site", ports.site_url, log="fake.log")
    servers.append(fake)
    site = start(project, "runserver", f"127.0.0.1:{ports.site}", "--noreload", log="site.log")
    servers.append(site)
    wait_for_port(ports.attributes, fake, project / "fake.log")
    wait_for_port(ports.site, site, project / "site.log")

    browser = requests.Session()

    def get(path: str) -> requests.Response:
        return browser.get(
            path if "://" in path else ports.site_url + path,
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    # Anonymous people go to the project's own LOGIN_URL.
    assert get("/permit/").headers["Location"] == f"{OWN_LOGIN_URL}?next=/permit/"
    assert get("/account/").headers["Location"] == f"{OWN_LOGIN_URL}?next=/account/"

    # Sign in at the fake (its real pages, over HTTP), back to the page asked for.
    authorize = get("/scotaccount/login/?next=/permit/").headers["Location"]
    assert authorize.startswith(f"http://127.0.0.1:{ports.fake}/authorize?")
    back = get(complete_authorization(authorize, persona="morag"))
    assert back.headers["Location"] == "/permit/", back.text[:2000]
    assert get("/account/").text == "Signed in."

    # Step up for the verified address, then the page runs.
    step_up = get("/permit/").headers["Location"]
    assert step_up.startswith("/scotaccount/attributes/?scope=scotaccount.address")
    authorize = get(step_up).headers["Location"]
    assert "scotaccount.address" in authorize
    back = get(complete_authorization(authorize, persona="morag"))
    assert back.headers["Location"] == "/permit/", back.text[:2000]
    assert get("/permit/").text == "Your permit is for G62 7AA."
