"""System checks for the verified-attribute settings (scotaccount.E030, E031)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scotaccount_django.checks import check_settings
from scotaccount_django.conf import conf


def ids() -> set[str]:
    return {message.id for message in check_settings()}


def test_valid_attribute_settings_raise_nothing(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {
        "scotaccount.address": timedelta(days=90),
        "scotaccount.email": 3600,
    }
    assert not ids() & {"scotaccount.E030", "scotaccount.E031"}


def test_e030_unknown_scope_in_max_age(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {"gpg-45-medium": timedelta(days=1)}
    assert "scotaccount.E030" in ids()


@pytest.mark.parametrize("value", [0, 59 * 60, timedelta(minutes=5), -1, timedelta(days=-1)])
def test_e031_max_age_too_short_or_negative(settings, value):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {"scotaccount.address": value}
    assert "scotaccount.E031" in ids()


def test_the_attributes_issuer_is_derived_from_the_attributes_url(settings):
    settings.SCOTACCOUNT_ENVIRONMENT = "production"
    settings.SCOTACCOUNT_ATTRIBUTES_URL = "https://attributes.example/attributes/values"
    assert conf.ATTRIBUTES_ISSUER == "https://attributes.example/jwt"
    settings.SCOTACCOUNT_ATTRIBUTES_URL = None
    assert conf.ATTRIBUTES_ISSUER is None
