"""The example council site: its pages render and sign-in works through it end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.flow_helpers import complete, start_flow

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_home_page_renders(client, example_site) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Apply for a resident parking permit" in response.content


def test_protected_page_sends_people_through_scotaccount_and_back(
    client, example_site, fake_scotaccount
) -> None:
    response = client.get("/apply/")
    assert response.status_code == 302
    login = response["Location"]
    assert login.startswith("/scotaccount/login/?next=/apply/")
    authorize_url = start_flow(client, path=login.split("?")[0], next="/apply/")
    back = complete(client, fake_scotaccount, authorize_url, "morag")
    assert back["Location"] == "/apply/"
    page = client.get("/apply/")
    assert page.status_code == 200
    assert b'data-testid="apply-title"' in page.content
    # Internal ids are never shown to people.
    assert fake_scotaccount.personas["morag"].sub.encode() not in page.content


def test_sign_out_ends_the_session_and_goes_to_scotaccount(
    client, example_site, fake_scotaccount
) -> None:
    from tests.flow_helpers import sign_in

    sign_in(client, fake_scotaccount, "morag", next="/apply/")
    page = client.get("/apply/").content.decode()
    assert 'data-testid="sign-out"' in page
    response = client.post("/scotaccount/logout/")
    assert response.status_code == 302
    assert response["Location"].startswith(fake_scotaccount.end_session_endpoint)
    assert client.get("/apply/").status_code == 302


def test_package_pages_take_the_councils_look(client, settings, example_site) -> None:
    settings.INSTALLED_APPS = ["council", *[a for a in settings.INSTALLED_APPS if a != "council"]]
    page = client.get("/scotaccount/logged-out/").content.decode()
    assert "Example Council" in page


def test_demo_names_a_taken_port_and_how_to_choose_another(example_site) -> None:
    import socket

    from run_demo import busy_port_message

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = busy_port_message("127.0.0.1", {"FAKE_SCOTACCOUNT_PORT": port})
    assert message is not None
    assert f"Port {port} (FAKE_SCOTACCOUNT_PORT)" in message
    assert "DEMO_PORT=9000 FAKE_SCOTACCOUNT_PORT=9001 make demo" in message
    assert busy_port_message("127.0.0.1", {"DEMO_PORT": port}) is None


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"DEMO_PORT": "abc"}, "DEMO_PORT='abc'"),
        ({"FAKE_SCOTACCOUNT_PORT": "65535"}, "FAKE_SCOTACCOUNT_PORT='65535'"),
        ({"DEMO_PORT": "0"}, "DEMO_PORT='0'"),
        ({"DEMO_PORT": "٩"}, "DEMO_PORT="),  # an Arabic-Indic nine: isdigit, not a port
    ],
)
def test_demo_names_a_port_that_is_not_a_number(example_site, environ, variable) -> None:
    from run_demo import bad_port_message

    message = bad_port_message(environ)
    assert message is not None
    assert message.startswith(variable)
    assert "is not a port number" in message
    assert bad_port_message({"DEMO_PORT": "9000", "FAKE_SCOTACCOUNT_PORT": "9001"}) is None


def test_make_demo_with_a_bad_port_says_so_without_a_traceback(tmp_path) -> None:
    """As a person runs it: one line on stderr, exit status 1, before Django starts."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "example_project" / "run_demo.py")],
        env={**os.environ, "DEMO_PORT": "abc", "DEMO_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("DEMO_PORT='abc' is not a port number.")


def runtime_dependencies(pyproject: Path) -> set[str]:
    text = pyproject.read_text(encoding="utf-8")
    block = text.split("\ndependencies = [", 1)[1].split("\n]", 1)[0]
    return set(re.findall(r'^\s*"([^"]+)",', block, re.M))


def metrics_group(pyproject: Path) -> set[str]:
    """The `metrics` dependency group: what the demo's /metrics page needs."""
    text = pyproject.read_text(encoding="utf-8")
    block = text.split("\nmetrics = [", 1)[1].split("]", 1)[0]
    return {item.strip().strip('"') for item in block.split(",") if item.strip()}


def test_the_demo_installs_exactly_the_runtime_dependencies() -> None:
    """make demo installs example_project/requirements.txt: the packages' dependencies only,
    and the metrics group for /metrics."""
    lines = (ROOT / "example_project" / "requirements.txt").read_text().splitlines()
    demo = {line for line in lines if line and not line.startswith("#")}
    needed = runtime_dependencies(ROOT / "pyproject.toml") | runtime_dependencies(
        ROOT / "testing" / "pyproject.toml"
    )
    expected = {dep for dep in needed if not dep.startswith("scotaccount-django")}
    assert demo == expected | metrics_group(ROOT / "pyproject.toml")
