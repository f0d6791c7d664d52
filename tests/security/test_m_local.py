"""M7: the fake ScotAccount environment cannot run in production.

Its keys are not secret, so anyone could sign in as anyone. ``SCOTACCOUNT_ENVIRONMENT =
"local"`` is refused at run time unless ``DEBUG`` is on or the CI opt-in is set, and a
default (not only ``--deploy``) check reports it; loopback is recognised in every literal
form, and look-alike names are not.
"""

from __future__ import annotations

import logging

import pytest
from django.core import checks

from scotaccount_django._internal.provider import is_loopback_host, is_loopback_url
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ConfigurationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(settings):
    for name in ("DISCOVERY_URL", "ATTRIBUTES_URL", "ATTRIBUTES_JWKS_URL"):
        setattr(settings, f"SCOTACCOUNT_{name}", None)
    settings.SCOTACCOUNT_ENVIRONMENT = "local"
    settings.DEBUG = False
    return settings


def default_check_ids() -> set[str]:
    return {message.id for message in checks.run_checks() if message.id}


def test_m7_local_without_debug_is_refused_at_run_time(local) -> None:
    for name in ("DISCOVERY_URL", "ATTRIBUTES_URL", "ATTRIBUTES_JWKS_URL"):
        with pytest.raises(ConfigurationError, match=r"'local'.*DEBUG is off"):
            getattr(conf, name)
    with pytest.raises(ConfigurationError):
        conf.ISSUER  # noqa: B018 - derived values refuse too


def test_m7_a_value_read_with_debug_on_is_refused_once_debug_is_off(local) -> None:
    """``conf`` keeps what it read, but never past the change that makes M7 apply."""
    local.DEBUG = True
    assert conf.DISCOVERY_URL
    assert conf.ISSUER
    local.DEBUG = False
    for _ in range(2):  # every read, not only the first
        with pytest.raises(ConfigurationError):
            conf.DISCOVERY_URL  # noqa: B018
        with pytest.raises(ConfigurationError):
            conf.ISSUER  # noqa: B018


def test_m7_sign_in_shows_a_setup_page_not_a_500_and_logs_why(local, client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="scotaccount_django"):
        response = client.get("/scotaccount/login/")
    assert response.status_code == 502
    assert b"problem with this service" in response.content
    assert b"SCOTACCOUNT_" not in response.content  # operators' words stay in the log
    assert "SCOTACCOUNT_ENVIRONMENT is 'local'" in caplog.text
    assert not response.has_header("Location")  # never sent to the fake


def test_m7_local_is_fine_with_debug(local) -> None:
    local.DEBUG = True
    assert conf.DISCOVERY_URL == "http://127.0.0.1:8001/.well-known/openid-configuration"
    assert "scotaccount.E010" not in default_check_ids()


def test_m7_local_is_fine_with_the_ci_opt_in(local) -> None:
    local.SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG = True
    assert conf.ATTRIBUTES_URL == "http://127.0.0.1:8002/attributes/values"
    assert "scotaccount.E010" not in default_check_ids()


def test_m7_the_default_checks_report_local_without_debug(local) -> None:
    """Not only ``check --deploy``: ``runserver`` and ``migrate`` say so too."""
    assert "scotaccount.E010" in default_check_ids()


@pytest.mark.parametrize(
    "host",
    [
        "localhost.localdomain",
        "127.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.0.0.1",
        "127.255.255.254",
        "::1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "LOCALHOST.",
        "app.localhost",
    ],
)
def test_m7_every_literal_form_of_loopback_is_loopback(settings, host) -> None:
    assert is_loopback_host(host)
    url = f"http://{host if ':' not in host or host.startswith('[') else f'[{host}]'}:9"
    settings.SCOTACCOUNT_DISCOVERY_URL = f"{url}/.well-known/openid-configuration"
    assert "scotaccount.E010" in default_check_ids()


@pytest.mark.parametrize(
    "host",
    [
        "127.attacker.example",
        "localhost.attacker.example",
        "0x7f000001.attacker.example",
        "127.0.0.1.nip.io",
        "10.0.0.1",
        "0.0.0.0",
        "::",
        "authz.scotaccount.service.gov.scot",
        "",
    ],
)
def test_m7_look_alike_names_are_not_loopback(host) -> None:
    assert not is_loopback_host(host)


def test_m7_an_unparseable_url_is_not_loopback() -> None:
    assert not is_loopback_url("http://[::1/")
