"""System checks for sessions and logout, asserted by id."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scotaccount_django.checks import MESSAGES, check_deploy_settings, check_settings

MIDDLEWARE = "scotaccount_django.middleware.SessionLifetimeMiddleware"
SESSION_CHECKS = {
    check_id for check_id in MESSAGES if check_id[len("scotaccount.") + 1 :].startswith("02")
}


def session_ids():
    messages = [*check_settings(), *check_deploy_settings()]
    return [message.id for message in messages if message.id in SESSION_CHECKS]


def test_the_test_settings_pass():
    assert session_ids() == []


def without(middleware, name):
    return [entry for entry in middleware if entry != name]


@pytest.mark.parametrize(
    "before",
    [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
)
def test_e020_middleware_before_sessions_or_auth(settings, before):
    middleware = without(settings.MIDDLEWARE, MIDDLEWARE)
    middleware.insert(middleware.index(before), MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    assert set(session_ids()) == {"scotaccount.E020"}


def test_w020_middleware_missing(settings):
    settings.MIDDLEWARE = without(settings.MIDDLEWARE, MIDDLEWARE)
    assert session_ids() == ["scotaccount.W020"]


def test_e021_no_post_logout_redirect_uri_outside_debug(settings):
    settings.SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI = None
    assert session_ids() == ["scotaccount.E021"]
    settings.DEBUG = True
    assert session_ids() == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SCOTACCOUNT_SESSION_LIFETIME", 0),
        ("SCOTACCOUNT_SESSION_LIFETIME", timedelta(hours=-1)),
        ("SCOTACCOUNT_SESSION_IDLE_TIMEOUT", -60),
    ],
)
def test_e022_durations_must_be_positive(settings, setting, value):
    setattr(settings, setting, value)
    messages = [m for m in check_settings() if m.id in SESSION_CHECKS]
    assert [m.id for m in messages] == ["scotaccount.E022"]
    assert setting in messages[0].msg


def test_w021_lifetime_longer_than_scotaccounts(settings):
    settings.SCOTACCOUNT_SESSION_LIFETIME = timedelta(hours=4, seconds=1)
    assert session_ids() == ["scotaccount.W021"]
    settings.SCOTACCOUNT_SESSION_LIFETIME = 4 * 3600
    assert session_ids() == []


def test_w022_idle_timeout_not_shorter_than_lifetime(settings):
    settings.SCOTACCOUNT_SESSION_LIFETIME = 3600
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 3600
    assert session_ids() == ["scotaccount.W022"]
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 3599
    assert session_ids() == []


def test_every_session_check_is_tested():
    assert {
        "scotaccount.E020",
        "scotaccount.E021",
        "scotaccount.E022",
        "scotaccount.W020",
        "scotaccount.W021",
        "scotaccount.W022",
    } == SESSION_CHECKS
