"""The ``fake_scotaccount`` fixture points the app's settings at a fresh, isolated fake."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import requests
from django.conf import settings as django_settings
from django.core.cache import cache

from scotaccount_django._internal.provider import load_signing_key
from scotaccount_django.conf import conf
from scotaccount_django_testing import FakeScotAccount


@pytest.fixture
def without_configured_key(settings):
    """No key in settings, so the fixture must generate one (listed before it)."""
    settings.SCOTACCOUNT_PRIVATE_KEY = None


def test_settings_point_at_the_fake(without_configured_key, fake_scotaccount):
    fake = fake_scotaccount
    assert isinstance(fake, FakeScotAccount)
    assert fake.mode == "strict"
    assert fake.discovery_url == django_settings.SCOTACCOUNT_DISCOVERY_URL
    assert fake.issuer == conf.ISSUER
    assert fake.attributes_url == django_settings.SCOTACCOUNT_ATTRIBUTES_URL
    assert fake.attributes_issuer == conf.ATTRIBUTES_ISSUER
    assert fake.attributes_jwks_url == django_settings.SCOTACCOUNT_ATTRIBUTES_JWKS_URL
    assert fake.client_id == django_settings.SCOTACCOUNT_CLIENT_ID
    assert "BEGIN PRIVATE KEY" in django_settings.SCOTACCOUNT_PRIVATE_KEY
    assert requests.get(django_settings.SCOTACCOUNT_DISCOVERY_URL, timeout=5).ok


def test_the_generated_key_is_registered(without_configured_key, fake_scotaccount):
    import time
    import uuid

    import jwt

    from testing.tests.support import Flow, query

    fake = fake_scotaccount
    flow = Flow()
    location = fake.complete_authorization(
        flow.url(fake, redirect_uri=django_settings.SCOTACCOUNT_REDIRECT_URI)
    )
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": fake.client_id,
            "sub": fake.client_id,
            "aud": fake.token_endpoint,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        },
        django_settings.SCOTACCOUNT_PRIVATE_KEY,
        algorithm="ES256",
        headers={"kid": load_signing_key().kid},
    )
    response = requests.post(
        fake.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": query(location)["code"],
            "redirect_uri": django_settings.SCOTACCOUNT_REDIRECT_URI,
            "code_verifier": flow.verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text


def test_cache_is_cleared(settings, request):
    cache.set("scotaccount-test", "stale")
    request.getfixturevalue("fake_scotaccount")
    assert cache.get("scotaccount-test") is None


def test_settings_are_restored_after_the_test():
    assert getattr(django_settings, "SCOTACCOUNT_DISCOVERY_URL", None) is None


def test_plugin_imports_without_django_configured():
    code = (
        "import sys, importlib;"
        "m = importlib.import_module('scotaccount_django_testing.pytest_plugin');"
        "assert 'django.conf' not in sys.modules or not __import__('django.conf').conf.settings"
        ".configured;"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin"},
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert importlib.import_module("scotaccount_django_testing.pytest_plugin")
