"""Durations as seconds or timedelta, the fixed leeway, the end-session fallback check,
the per-process cache warning, VERIFIED_WITH_WARNINGS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import checks

from scotaccount_django.conf import conf
from scotaccount_django.models import AttributeScope, VerificationOutcome, VerifiedAttribute
from tests.flow_helpers import sign_in

DURATION_SETTINGS = ["TIMEOUT", "SESSION_LIFETIME", "SESSION_IDLE_TIMEOUT"]


@pytest.mark.parametrize("name", DURATION_SETTINGS)
def test_every_duration_setting_accepts_seconds_or_a_timedelta(settings, name):
    setattr(settings, f"SCOTACCOUNT_{name}", timedelta(seconds=7))
    from_timedelta = getattr(conf, name)
    setattr(settings, f"SCOTACCOUNT_{name}", 7)
    assert from_timedelta == getattr(conf, name) == timedelta(seconds=7)


@pytest.mark.django_db
def test_a_token_beyond_the_fixed_30s_leeway_is_refused(client, fake_scotaccount):
    fake_scotaccount.clock.advance(120)  # iat two minutes in our future
    assert sign_in(client, fake_scotaccount).status_code == 502
    assert "_auth_user_id" not in client.session


def deploy_messages(check_id):
    return [m for m in checks.run_checks(include_deployment_checks=True) if m.id == check_id]


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    ],
)
def test_deploy_check_warns_about_a_per_process_cache(settings, backend):
    settings.CACHES = {"default": {"BACKEND": backend}}
    (message,) = deploy_messages("scotaccount.W040")
    assert message.level == checks.WARNING
    assert backend.rsplit(".", 1)[1] in message.msg


def test_deploy_check_is_quiet_for_a_shared_cache(settings, tmp_path):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        },
    }
    settings.SCOTACCOUNT_CACHE_ALIAS = "shared"
    assert deploy_messages("scotaccount.W040") == []
    assert "scotaccount.W040" not in {m.id for m in checks.run_checks()}  # --deploy only


def test_check_says_where_sign_out_goes_on_a_host_that_is_not_scotaccount(settings):
    settings.SCOTACCOUNT_DISCOVERY_URL = "https://idp.example/.well-known/openid-configuration"
    (message,) = deploy_messages("scotaccount.I040")
    assert message.level == checks.INFO
    assert "https://idp.example/authorize/logout" in message.msg
    assert "documented /authorize/logout" in message.hint


@pytest.mark.parametrize(
    ("environment", "discovery"),
    [
        ("integration", None),
        ("production", None),
        (
            "integration",
            "https://authz.scotaccount.service.gov.scot/.well-known/openid-configuration",
        ),
        ("local", None),  # the fake serves its own /authorize/logout: it is not ScotAccount's
        ("integration", "http://127.0.0.1:9/.well-known/openid-configuration"),
    ],
)
def test_sign_out_fallback_is_not_reported_for_scotaccount_or_the_fake(
    settings, environment, discovery
):
    settings.DEBUG = True
    settings.SCOTACCOUNT_ENVIRONMENT = environment
    settings.SCOTACCOUNT_DISCOVERY_URL = discovery
    assert deploy_messages("scotaccount.I040") == []


def test_verified_with_warnings_is_the_councils_policy_choice(settings):
    def verified(outcome: str) -> bool:
        return VerifiedAttribute(
            scope=AttributeScope.IDENTITY, outcome=outcome, confidence_level="medium"
        ).is_verified

    warnings = VerificationOutcome.VERIFIED_WITH_WARNINGS
    assert verified(warnings)  # documented default: accepted
    settings.SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS = False
    assert not verified(warnings)
    assert verified(VerificationOutcome.VERIFIED_SUCCESSFULLY)
    assert not verified(VerificationOutcome.VERIFICATION_FAILED)
