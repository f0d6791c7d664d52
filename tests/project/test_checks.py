"""Every system check id fires for its misconfiguration, and a good setup has none."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core import checks
from django.test import override_settings

from scotaccount_django.checks import MESSAGES

FAKE = "http://127.0.0.1:9/.well-known/openid-configuration"


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def check_ids() -> set[str]:
    messages = checks.run_checks(include_deployment_checks=True)
    return {message.id for message in messages if message.id}


def test_check_ids_are_namespaced_and_messages_distinct() -> None:
    assert all(check_id.startswith("scotaccount.") for check_id in MESSAGES)
    assert len({message for message, _ in MESSAGES.values()}) == len(MESSAGES)


def test_every_check_id_is_raised_somewhere_and_every_raised_id_exists() -> None:
    """The table and the checks agree: no dead ids, no id raised without a message."""
    import inspect

    from scotaccount_django import checks as checks_module

    source = inspect.getsource(checks_module)
    raised = set(re.findall(r'_error\(\s*"(scotaccount\.[EWI]\d{3})"', source))
    assert raised == set(MESSAGES)


def test_a_correct_configuration_has_no_scotaccount_messages() -> None:
    # I040 always informs under --deploy; W040: the test settings' cache is per-process;
    # W050: the test settings do not encrypt attributes at rest.
    expected = {"scotaccount.I040", "scotaccount.W040", "scotaccount.W050"}
    assert {i for i in check_ids() if i.startswith("scotaccount.")} == expected


@pytest.fixture
def no_key(settings) -> Iterator[None]:
    settings.SCOTACCOUNT_PRIVATE_KEY = None
    settings.SCOTACCOUNT_PRIVATE_KEY_FILE = None
    return


CASES = {
    "scotaccount.E001": {"SCOTACCOUNT_CLIENT_ID": None},
    "scotaccount.E004": {"SCOTACCOUNT_REDIRECT_URI": "http://www.example.gov.scot/cb/"},
    "scotaccount.E005": {"AUTHENTICATION_BACKENDS": ["django.contrib.auth.backends.ModelBackend"]},
    "scotaccount.E007": {"SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"},
    "scotaccount.E008": {"SESSION_COOKIE_SAMESITE": "Strict"},
    "scotaccount.E009": {"SCOTACCOUNT_REDIRECT_URI": None},
    "scotaccount.E010": {"SCOTACCOUNT_DISCOVERY_URL": FAKE},
    "scotaccount.E011": {"SCOTACCOUNT_ENVIRONMENT": "staging"},
    "scotaccount.E012": {"SCOTACCOUNT_ENVIRONMENT": "production"},
    "scotaccount.E013": {"SCOTACCOUNT_CLOCK_LEEWAY": 300},
    "scotaccount.E014": {"SCOTACCOUNT_ID_TOKEN_ALGORITHMS": ["RS256", "HS256"]},
    "scotaccount.E015": {"SCOTACCOUNT_DISCOVERY_URL": "https://idp.example/metadata.json"},
    "scotaccount.E016": {
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "scotaccount_django",
        ]
    },
    "scotaccount.E017": {"MIDDLEWARE": []},
}


@pytest.mark.parametrize(("check_id", "overrides"), CASES.items(), ids=list(CASES))
def test_each_misconfiguration_fires_its_check(check_id: str, overrides: dict) -> None:
    with override_settings(**overrides):
        assert check_id in check_ids()


def test_missing_key_fires_e002(no_key) -> None:
    assert "scotaccount.E002" in check_ids()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: pem(rsa.generate_private_key(65537, 1024)), id="rsa-1024"),
        pytest.param(lambda: pem(ec.generate_private_key(ec.SECP384R1())), id="ec-p384"),
        pytest.param(lambda: "not a key", id="garbage"),
    ],
)
def test_weak_or_unreadable_key_fires_e003(settings, key) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = key()
    assert "scotaccount.E003" in check_ids()


def test_missing_key_file_fires_e003(settings, tmp_path) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY_FILE = str(tmp_path / "absent.pem")
    assert "scotaccount.E003" in check_ids()


def test_key_in_two_places_warns_w001(settings, tmp_path) -> None:
    path = tmp_path / "key.pem"
    path.write_text(settings.SCOTACCOUNT_PRIVATE_KEY)
    settings.SCOTACCOUNT_PRIVATE_KEY_FILE = str(path)
    assert "scotaccount.W001" in check_ids()


def test_urls_not_included_fires_e006(settings) -> None:
    settings.ROOT_URLCONF = "tests.urls_without_scotaccount"
    assert "scotaccount.E006" in check_ids()


def test_fake_provider_is_fine_in_debug(settings) -> None:
    settings.DEBUG = True
    settings.SCOTACCOUNT_DISCOVERY_URL = FAKE
    assert "scotaccount.E010" not in check_ids()


def test_every_sign_in_check_id_has_a_test() -> None:
    # Ids 020 and up belong to the session and attributes checks, tested beside them.
    tested = {
        *CASES,
        "scotaccount.E002",
        "scotaccount.E003",
        "scotaccount.E006",
        "scotaccount.W001",
    }
    assert {i for i in MESSAGES if int(i[-3:]) < 20} == tested
