"""What a council meets first: commands without the key, one setting for the fake, LOGIN_URL."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from scotaccount_django.conf import conf
from scotaccount_django.decorators import verified_attributes_required
from scotaccount_django_testing.fake.django_command import Command as FakeCommand
from tests.flow_helpers import sign_in
from tests.ports import free_ports, ports_held

pytestmark = pytest.mark.django_db

#: This module's own port range, apart from the other suites' (tests/ports.py).
PORTS = range(9700, 9800)


@pytest.fixture
def key_not_mounted(settings, tmp_path: Path) -> Path:
    """A key file that is configured but absent, as in a build step or a migration job."""
    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "secrets" / "scotaccount.pem")
    return tmp_path


def scotaccount_ids(**kwargs) -> set[str]:
    """Our errors (warnings and notes, such as the per-process cache in tests, aside)."""
    return {m.id for m in checks.run_checks(**kwargs) if m.id and m.id.startswith("scotaccount.E")}


def test_default_checks_do_no_file_or_network_io(key_not_mounted, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a default system check did I/O")

    scotaccount_ids()  # imports the URLconf and templates first: that I/O is Django's
    monkeypatch.setattr("scotaccount_django.checks.load_signing_key", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr("builtins.open", refuse)
    assert scotaccount_ids() == set()


def test_check_deploy_reports_the_unmounted_key(key_not_mounted) -> None:
    assert "scotaccount.E003" in scotaccount_ids(include_deployment_checks=True)


def test_commands_run_without_the_key(key_not_mounted, monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "not-a-real-password")
    user_model = get_user_model()
    names = [user_model.USERNAME_FIELD, *user_model.REQUIRED_FIELDS]
    for command, *args in (
        ("migrate", "--check"),
        ("createsuperuser", "--noinput", *(f"--{name}=admin@example.org" for name in names)),
        ("scotaccount_purge",),
    ):
        call_command(command, *args, skip_checks=False, stdout=io.StringIO())
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_the_key_is_still_checked_when_first_used(
    client, fake_scotaccount, settings, tmp_path, caplog
) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "absent.pem")
    with caplog.at_level(logging.WARNING, logger="scotaccount_django"):
        response = sign_in(client, fake_scotaccount)
    assert response.status_code == 502
    assert b"problem with this service" in response.content
    assert b"scotaccount_keygen" not in response.content  # operators' words stay in the log
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "The ScotAccount private key cannot be used" in logged
    assert "scotaccount_keygen" in logged


def test_one_setting_points_sign_in_and_attributes_at_the_local_fake(settings) -> None:
    for name in ("DISCOVERY_URL", "ATTRIBUTES_URL"):
        setattr(settings, f"SCOTACCOUNT_{name}", None)
    settings.SCOTACCOUNT_ENVIRONMENT = "local"
    settings.SCOTACCOUNT_LOCAL_PORT = 9601
    settings.DEBUG = True
    assert conf.DISCOVERY_URL == "http://127.0.0.1:9601/.well-known/openid-configuration"
    assert conf.ISSUER == "http://127.0.0.1:9601"
    assert conf.ATTRIBUTES_URL == "http://127.0.0.1:9602/attributes/values"
    assert conf.ATTRIBUTES_ISSUER == "http://127.0.0.1:9602/jwt"
    assert conf.ATTRIBUTES_JWKS_URL == "http://127.0.0.1:9602/jwks.json"
    assert scotaccount_ids(include_deployment_checks=True) == set()
    settings.DEBUG = False
    assert "scotaccount.E010" in scotaccount_ids(include_deployment_checks=True)


@pytest.mark.parametrize(
    ("overrides", "fires"),
    [
        (
            {
                "SCOTACCOUNT_DISCOVERY_URL": "http://127.0.0.1:8001/.well-known/openid-configuration"
            },
            True,
        ),
        ({"SCOTACCOUNT_ENVIRONMENT": "local"}, False),
        ({"SCOTACCOUNT_ENVIRONMENT": "integration"}, False),
        (
            {
                "SCOTACCOUNT_ENVIRONMENT": "local",
                "SCOTACCOUNT_ATTRIBUTES_URL": (
                    "https://issuer.main.integration.scotaccount.service.gov.scot/attributes/values"
                ),
            },
            True,
        ),
    ],
    ids=["sign-in-local-attributes-integration", "local", "integration", "attributes-overridden"],
)
def test_a_half_pointed_configuration_is_e051(settings, overrides, fires) -> None:
    settings.DEBUG = True
    for name in ("DISCOVERY_URL", "ATTRIBUTES_URL"):
        setattr(settings, f"SCOTACCOUNT_{name}", None)
    settings.SCOTACCOUNT_ENVIRONMENT = "integration"
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert ("scotaccount.E061" in scotaccount_ids()) is fires


def test_scotaccount_fake_is_registered_from_the_projects_settings(settings) -> None:
    settings.SCOTACCOUNT_REDIRECT_URI = None
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = None
    with ports_held():  # a free port and the one after it, as the setting promises
        settings.SCOTACCOUNT_LOCAL_PORT, attributes_port = free_ports(2, PORTS)
        fake = FakeCommand().build_fake(["http://localhost:8000"], None).start()
    try:
        assert fake.client_id == conf.CLIENT_ID
        registration = fake._state.registration
        assert registration.redirect_uris == ("http://localhost:8000/scotaccount/callback/",)
        assert registration.post_logout_redirect_uris == (
            "http://localhost:8000/scotaccount/logged-out/",
        )
        assert len(registration.keys) == 1
        answer = requests.get(fake.discovery_url, timeout=5)
        assert answer.json()["issuer"] == fake.issuer
        assert urlsplit(fake.attributes_url).port == attributes_port
    finally:
        fake.stop()


def test_scotaccount_fake_without_a_key_says_how_to_make_one(key_not_mounted) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scotaccount_keygen"):
        call_command("scotaccount_fake")


def test_the_fake_cli_prints_a_settings_block_to_paste() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scotaccount_django_testing.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while not (lines and lines[-1].startswith("SCOTACCOUNT_ATTRIBUTES_JWKS_URL")):
            line = process.stdout.readline()
            assert line
            lines.append(line.rstrip("\n"))
    finally:
        process.terminate()
        process.wait(timeout=10)
    block = "\n".join(lines[lines.index("") + 1 :])
    namespace: dict[str, object] = {}
    exec(block, namespace)  # it is valid Python, ready to paste
    assert str(namespace["SCOTACCOUNT_DISCOVERY_URL"]).startswith("http://127.0.0.1:")


@verified_attributes_required("scotaccount.address")
def needs_address(request) -> HttpResponse:
    return HttpResponse("ok")


@verified_attributes_required("scotaccount.address", login_url="/choose-sign-in/")
def needs_address_own_login(request) -> HttpResponse:
    return HttpResponse("ok")


@pytest.mark.parametrize(
    ("login_url", "expected"),
    [(None, "/scotaccount/login/"), ("/how-to-sign-in/", "/how-to-sign-in/")],
    ids=["unset", "set"],
)
def test_login_url_is_respected_everywhere(settings, client, login_url, expected) -> None:
    from django.contrib.auth.models import AnonymousUser

    if login_url is None:
        del settings.LOGIN_URL
    else:
        settings.LOGIN_URL = login_url
    request = RequestFactory().get("/permit/")
    request.user = AnonymousUser()
    assert needs_address(request)["Location"] == f"{expected}?next=/permit/"
    assert needs_address_own_login(request)["Location"] == "/choose-sign-in/?next=/permit/"
    step_up = client.get("/scotaccount/attributes/", {"scope": "scotaccount.address"})
    assert step_up["Location"].startswith(f"{expected}?next=")
    # Where SessionLifetimeMiddleware sends people: its "Sign in again" link.
    ended = client.get(reverse("scotaccount:session_ended"), {"next": "/permit/"})
    assert ended.context["sign_in_url"] == f"{expected}?next=%2Fpermit%2F"


def test_every_error_page_is_in_troubleshooting() -> None:
    from scotaccount_django._internal.error_pages import PAGES
    from tests.docs_blocks import DOCS

    text = (DOCS / "troubleshooting.md").read_text()
    codes = list(PAGES)
    assert [code for code in codes if f"`{code}`" not in text] == []


def test_the_installation_guide_lists_every_url_name() -> None:
    from scotaccount_django import urls
    from tests.docs_blocks import DOCS

    text = (DOCS / "installation.md").read_text()
    names = [pattern.name for pattern in urls.urlpatterns if pattern.name]
    assert names
    assert [name for name in names if f"`scotaccount:{name}`" not in text] == []


def test_scotaccount_fake_with_its_port_taken_says_so_without_a_traceback(settings) -> None:
    from django.core.management.base import CommandError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.SCOTACCOUNT_ENVIRONMENT = "local"
        settings.SCOTACCOUNT_LOCAL_PORT = taken.getsockname()[1]
        with pytest.raises(CommandError, match=r"cannot listen on 127\.0\.0\.1:") as raised:
            call_command("scotaccount_fake", stderr=io.StringIO())
    assert "SCOTACCOUNT_LOCAL_PORT" in str(raised.value)


def test_the_fake_cli_with_its_port_taken_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.run(
            [sys.executable, "-m", "scotaccount_django_testing.fake", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [process.stderr.strip()], (
        "one line, no traceback"
    )
    assert f"cannot listen on 127.0.0.1:{port}" in process.stderr


@pytest.fixture
def served(settings, monkeypatch) -> list[str | None]:
    """``scotaccount_fake`` with SCOTACCOUNT_ENVIRONMENT "local", recording what it would
    print after the banner (its ``next_steps``) instead of serving."""
    told: list[str | None] = []
    monkeypatch.setattr(
        "scotaccount_django_testing.fake.django_command.serve_until_interrupted",
        lambda fake, write, next_steps: told.append(next_steps),
    )
    settings.SCOTACCOUNT_ENVIRONMENT = "local"
    return told


def test_scotaccount_fake_warns_about_redirects_off_this_machine(settings, served) -> None:
    settings.SCOTACCOUNT_REDIRECT_URI = "https://www.example.gov.scot/scotaccount/callback/"
    errors = io.StringIO()
    call_command("scotaccount_fake", stderr=errors)
    assert len(served) == 1
    assert "SCOTACCOUNT_REDIRECT_URI is https://www.example.gov.scot" in errors.getvalue()
    assert "SCOTACCOUNT_ENVIRONMENT is not 'local'" not in errors.getvalue()


def test_scotaccount_fake_says_where_to_sign_in_not_what_to_paste(settings, served) -> None:
    """With "local" set, the fake's settings block would only tempt people to paste it."""
    settings.SCOTACCOUNT_REDIRECT_URI = None
    call_command("scotaccount_fake", "--site", "http://127.0.0.1:9000", stderr=io.StringIO())
    assert "nothing to paste" in str(served[0])
    assert "http://127.0.0.1:9000/scotaccount/login/" in str(served[0])
    assert "SCOTACCOUNT_DISCOVERY_URL" not in str(served[0])


def test_the_settings_block_trusts_the_fakes_ca_in_tls_mode(tmp_path) -> None:
    from scotaccount_django_testing import FakeScotAccount
    from scotaccount_django_testing.fake.serve import settings_block
    from scotaccount_django_testing.fake.tls import make_certificates

    with FakeScotAccount(tls=make_certificates(tmp_path)) as fake:
        namespace: dict[str, object] = {}
        exec(settings_block(fake), namespace)
    assert namespace["SCOTACCOUNT_CA_BUNDLE"] == str(fake.ca_file)
    assert str(namespace["SCOTACCOUNT_DISCOVERY_URL"]).startswith("https://")


def test_scotaccount_fake_without_the_kit_says_what_to_install(tmp_path) -> None:
    """The core ships no fake: without the kit the command says so in one line, exit 1."""
    script = (
        "import sys; sys.modules['scotaccount_django_testing'] = None\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'scotaccount_fake'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: This command is in the testing kit: pip install scotaccount-django-testing"
    ]
