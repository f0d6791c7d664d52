"""Every system check id fires for its misconfiguration, and a good setup has none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

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


def test_a_correct_configuration_has_no_scotaccount_messages(settings) -> None:
    # W040: the test settings' cache is per-process; W050: the test settings do not
    # encrypt attributes at rest.
    expected = {"scotaccount.W040", "scotaccount.W050"}
    assert {i for i in check_ids() if i.startswith("scotaccount.")} == expected


@pytest.fixture
def no_key(settings) -> Iterator[None]:
    settings.SCOTACCOUNT_PRIVATE_KEY = None
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
    "scotaccount.E015": {"SCOTACCOUNT_DISCOVERY_URL": "https://idp.example/metadata.json"},
    "scotaccount.E016": {
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "scotaccount_django",
        ]
    },
    "scotaccount.E017": {"MIDDLEWARE": []},
    "scotaccount.E021": {"SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI": None},
    "scotaccount.E022": {"SCOTACCOUNT_TIMEOUT": 0},
    "scotaccount.E040": {"SCOTACCOUNT_CACHE_ALIAS": "redis"},
    "scotaccount.E041": {"SCOTACCOUNT_CA_BUNDLE": "/nonexistent/ca.pem"},
    "scotaccount.E061": {
        "SCOTACCOUNT_ATTRIBUTES_URL": "https://issuer.main.scotaccount.service.gov.scot/x"
    },
    "scotaccount.E060": {"SCOTACCOUNT_TIMEOUT": "10"},
    "scotaccount.W002": {"SCOTACCOUNT_CLIENTID": "typo"},
}


@pytest.mark.parametrize(("check_id", "overrides"), CASES.items(), ids=list(CASES))
def test_each_misconfiguration_fires_its_check(check_id: str, overrides: dict) -> None:
    assert check_id not in check_ids()
    with override_settings(**overrides):
        assert check_id in check_ids()


def test_missing_key_fires_e002(no_key) -> None:
    assert "scotaccount.E002" in check_ids()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: pem(rsa.generate_private_key(65537, 1024)), id="rsa-1024"),
        pytest.param(lambda: pem(ec.generate_private_key(ec.SECP384R1())), id="ec-p384"),
        pytest.param(lambda: "-----BEGIN not a key", id="garbage"),
    ],
)
def test_weak_or_unreadable_key_fires_e003(settings, key) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = key()
    assert "scotaccount.E003" in check_ids()


def test_missing_key_file_fires_e003_in_whole_sentences(settings, tmp_path) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "absent.pem")
    (message,) = [
        m for m in checks.run_checks(include_deployment_checks=True) if m.id == "scotaccount.E003"
    ]
    assert "No such file or directory. Use an unencrypted PEM" in message.msg
    assert ": ." not in message.msg


def test_urls_not_included_fires_e006(settings) -> None:
    settings.ROOT_URLCONF = "tests.urls_without_scotaccount"
    assert "scotaccount.E006" in check_ids()


def test_fake_provider_is_fine_in_debug(settings) -> None:
    settings.DEBUG = True
    settings.SCOTACCOUNT_DISCOVERY_URL = FAKE
    assert "scotaccount.E010" not in check_ids()


def test_every_id_has_a_test_that_fires_it() -> None:
    """The table, the ids raised and the ids tested are one set (the rest are tested beside
    their concept: sessions, attributes, encryption, keys)."""
    import inspect

    from scotaccount_django import checks as checks_module

    source = inspect.getsource(checks_module)
    raised = set(re.findall(r'_message\(\s*"(scotaccount\.[EWI]\d{3})"', source))
    assert raised == set(MESSAGES)
    elsewhere = {
        "scotaccount.E002",
        "scotaccount.E003",
        "scotaccount.E006",
        "scotaccount.E020",
        "scotaccount.E030",
        "scotaccount.E031",
        "scotaccount.E050",
        "scotaccount.E062",
        "scotaccount.W003",
        "scotaccount.W020",
        "scotaccount.W021",
        "scotaccount.W022",
        "scotaccount.W040",
        "scotaccount.I040",
        "scotaccount.W050",
    }
    assert set(CASES) | elsewhere == set(MESSAGES)


def test_a_misspelt_setting_names_the_nearest_real_one(settings) -> None:
    settings.SCOTACCOUNT_CLIENTID = "typo"
    settings.SCOTACCOUNT_PRIVATE_KEY_FILE = "/run/secrets/key.pem"  # removed: now PRIVATE_KEY
    found = {m.msg: m.hint for m in checks.run_checks() if m.id == "scotaccount.W002"}
    hints = [found["SCOTACCOUNT_CLIENTID is not a ScotAccount setting, so it is ignored."]]
    hints.append(
        found["SCOTACCOUNT_PRIVATE_KEY_FILE is not a ScotAccount setting, so it is ignored."]
    )
    assert hints[0].startswith("Did you mean SCOTACCOUNT_CLIENT_ID?")
    assert hints[1].startswith("Did you mean SCOTACCOUNT_PRIVATE_KEY?")


@pytest.mark.parametrize("setting", ["SCOTACCOUNT_TIMEOUT", "SCOTACCOUNT_SESSION_LIFETIME"])
@pytest.mark.parametrize("value", [0, -5, timedelta(0), timedelta(seconds=-1)])
def test_a_duration_of_zero_or_less_is_e022(settings, setting, value) -> None:
    setattr(settings, setting, value)
    (message,) = [m for m in checks.run_checks() if m.id == "scotaccount.E022"]
    assert message.msg.startswith(f"{setting} is ")
    assert "greater than zero" in message.msg


def test_every_production_only_error_comes_in_one_round(settings, no_key, tmp_path) -> None:
    """E012, E009, E021, E041 and W050 together: fixing one never reveals the next."""
    settings.SCOTACCOUNT_TIMEOUT = 0  # a value out of range does not stop the round (E022)
    settings.SCOTACCOUNT_ENVIRONMENT = "production"
    settings.SCOTACCOUNT_REDIRECT_URI = None
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = None
    settings.SCOTACCOUNT_CA_BUNDLE = str(tmp_path / "missing.pem")
    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "missing-key.pem")
    found = check_ids()
    wanted = {"E003", "E009", "E012", "E021", "E022", "E041", "W050"}
    assert {f"scotaccount.{i}" for i in wanted} <= found


def test_default_checks_do_no_io(settings, tmp_path, monkeypatch) -> None:
    """Without --deploy, a missing key file and CA bundle are not even looked at."""
    import builtins
    import os

    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "absent.pem")
    settings.SCOTACCOUNT_CA_BUNDLE = str(tmp_path / "absent-ca.pem")
    touched: list[str] = []
    for module, name in ((builtins, "open"), (os, "stat"), (os, "access")):
        real = getattr(module, name)
        monkeypatch.setattr(
            module,
            name,
            lambda path, *a, _real=real, **k: touched.append(str(path)) or _real(path, *a, **k),
        )
    ids = {m.id for m in checks.run_checks()}
    monkeypatch.undo()
    assert not [path for path in touched if str(tmp_path) in path]
    assert not ids & {"scotaccount.E003", "scotaccount.E041"}
