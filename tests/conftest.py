"""Fixtures shared across test modules."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import time_machine
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.flow_helpers import EXAMPLE_PROJECT
from tests.telemetry import Figures

# Loaded here, not through the pytest11 entry point (disabled in pyproject.toml), so that
# coverage is already running when the fake is imported.
pytest_plugins = ["scotaccount_django_testing.pytest_plugin"]

# Fuzzers (tests/security/test_fuzz.py): a quick run by default;
# `--hypothesis-profile=long` for a deep one.
_FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile("fast", max_examples=12, **_FUZZ)
hypothesis_settings.register_profile("long", max_examples=1500, **_FUZZ)
hypothesis_settings.load_profile("fast")

#: A fixed instant that sign-ins in the session tests happen at.
SIGN_IN_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def frozen_clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at ``SIGN_IN_TIME`` until the test moves it (``.shift(seconds)``)."""
    with time_machine.travel(SIGN_IN_TIME, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def retry_pauses(monkeypatch) -> list[float]:
    """The attributes fetch's back-off pauses, recorded instead of slept (no test waits)."""
    from scotaccount_django._internal import provider

    pauses: list[float] = []
    monkeypatch.setattr(provider, "sleep", pauses.append)
    return pauses


@pytest.fixture
def example_site(settings) -> Iterator[None]:
    """The example council site (``example_project/``) as the site under test."""
    if str(EXAMPLE_PROJECT) not in sys.path:
        sys.path.insert(0, str(EXAMPLE_PROJECT))
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "council"]
    settings.ROOT_URLCONF = "council.urls"
    settings.LOGIN_REDIRECT_URL = "council:apply"
    with override_settings():
        yield


@pytest.fixture(scope="session")
def telemetry_sdk() -> Figures:
    """The OpenTelemetry SDK, installed once per process (the API allows no second one)."""
    from tests import telemetry

    return Figures(*telemetry.install())


@pytest.fixture
def telemetry(telemetry_sdk: Figures) -> Figures:
    """The app's metrics and spans from this test on (see ``tests/telemetry.py``)."""
    telemetry_sdk.reset()
    return telemetry_sdk
