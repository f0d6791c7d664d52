"""System checks for the verified-attribute settings (scotaccount.E030-E033)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scotaccount_django.checks import MESSAGES, check_settings


def ids() -> set[str]:
    return {message.id for message in check_settings()}


@pytest.fixture(autouse=True)
def valid(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {}
    settings.SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER = None


def test_the_new_ids_are_in_the_one_table():
    assert {"scotaccount.E030", "scotaccount.E031", "scotaccount.E032", "scotaccount.E033"} <= set(
        MESSAGES
    )


def test_valid_attribute_settings_raise_nothing(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {
        "scotaccount.address": timedelta(days=90),
        "scotaccount.email": 3600,
    }
    settings.SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER = (
        "tests.attributes.urls.custom_unavailable"
    )
    assert not ids() & {"scotaccount.E030", "scotaccount.E031", "scotaccount.E032"}


def test_e030_unknown_scope_in_max_age(settings):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {"gpg-45-medium": timedelta(days=1)}
    assert "scotaccount.E030" in ids()


@pytest.mark.parametrize("value", [0, 59 * 60, timedelta(minutes=5), -1])
def test_e031_max_age_too_short(settings, value):
    settings.SCOTACCOUNT_ATTRIBUTE_MAX_AGE = {"scotaccount.address": value}
    assert "scotaccount.E031" in ids()


@pytest.mark.parametrize(
    "path", ["tests.attributes.urls.no_such_view", "no_dots", "tests.attributes.urls.urlpatterns"]
)
def test_e032_unavailable_handler_not_importable_or_not_callable(settings, path):
    settings.SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER = path
    assert "scotaccount.E032" in ids()


def test_e033_attributes_url_without_an_issuer(settings):
    settings.SCOTACCOUNT_ENVIRONMENT = "production"
    settings.SCOTACCOUNT_ATTRIBUTES_URL = "https://attributes.example/attributes/values"
    settings.SCOTACCOUNT_ATTRIBUTES_ISSUER = None
    assert "scotaccount.E033" in ids()
    settings.SCOTACCOUNT_ATTRIBUTES_ISSUER = "https://attributes.example/jwt"
    assert "scotaccount.E033" not in ids()
