"""Every setting of the wrong type is a scotaccount.E060 message with a hint, never a traceback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import checks
from scotaccount_django._internal.setting_types import SETTING_KINDS

from scotaccount_django.conf import DEFAULTS

#: One wrong value per setting, as a council would write it (often from os.environ).
WRONG: dict[str, object] = {
    "SCOTACCOUNT_CLIENT_ID": 1234,
    "SCOTACCOUNT_ENVIRONMENT": ["integration"],
    "SCOTACCOUNT_DISCOVERY_URL": ["https://authz.example/.well-known/openid-configuration"],
    "SCOTACCOUNT_ISSUER": b"https://authz.example",
    "SCOTACCOUNT_ATTRIBUTES_URL": ("https://issuer.example/attributes/values",),
    "SCOTACCOUNT_ATTRIBUTES_ISSUER": 1,
    "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": {"url": "https://issuer.example/jwks.json"},
    "SCOTACCOUNT_PRIVATE_KEY_FILE": ["/run/secrets/scotaccount.pem"],
    "SCOTACCOUNT_PRIVATE_KEY": b"-----BEGIN PRIVATE KEY-----",
    "SCOTACCOUNT_PRIVATE_KEY_ID": 7,
    "SCOTACCOUNT_REDIRECT_URI": ["http://localhost:8000/scotaccount/callback/"],
    "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI": 0,
    "SCOTACCOUNT_ID_TOKEN_ALGORITHMS": "RS256",
    "SCOTACCOUNT_CONNECT_TIMEOUT": "5",
    "SCOTACCOUNT_READ_TIMEOUT": [10],
    "SCOTACCOUNT_END_SESSION_URL": ["https://authz.example/authorize/logout"],
    "SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS": "yes",
    "SCOTACCOUNT_CA_BUNDLE": True,
    "SCOTACCOUNT_CLOCK_LEEWAY": "30",
    "SCOTACCOUNT_FLOW_LIFETIME": "7 days",
    "SCOTACCOUNT_FLOW_COOKIE_NAME": None,
    "SCOTACCOUNT_METADATA_CACHE_TIMEOUT": "900",
    "SCOTACCOUNT_CACHE_ALIAS": None,
    "SCOTACCOUNT_CREATE_USERS": "False",
    "SCOTACCOUNT_SESSION_LIFETIME": "4h",
    "SCOTACCOUNT_SESSION_IDLE_TIMEOUT": True,
    "SCOTACCOUNT_SESSION_LIFETIME_FOR_ALL_USERS": 1,
    "SCOTACCOUNT_ATTRIBUTE_MAX_AGE": {"scotaccount.address": "a day"},
    "SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER": print,
    "SCOTACCOUNT_LOCAL_PORT": "8001",
    "SCOTACCOUNT_CLAIMS_TOKEN_MAX_AGE": "300",
    "SCOTACCOUNT_MAX_PENDING_FLOWS_PER_BROWSER": "5",
    "SCOTACCOUNT_FLOW_RATE_LIMIT": 30.5,
    "SCOTACCOUNT_FLOW_RATE_WINDOW": "5 minutes",
    "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS": "one-key-not-in-a-list",
}


def test_every_setting_has_a_kind_and_a_wrong_value_here() -> None:
    assert set(SETTING_KINDS) == set(DEFAULTS) == set(WRONG)


def test_every_default_is_of_its_own_kind() -> None:
    assert [name for name, kind in SETTING_KINDS.items() if not kind.accepts(DEFAULTS[name])] == []


@pytest.mark.parametrize(("setting", "value"), WRONG.items(), ids=list(WRONG))
def test_a_wrong_type_is_a_check_message_with_a_hint(settings, setting, value) -> None:
    setattr(settings, setting, value)
    # Default and deploy checks both: neither may raise, whatever the type.
    messages = checks.run_checks(include_deployment_checks=True)
    ours = [message for message in messages if message.id == "scotaccount.E060"]
    assert len(ours) == 1, [str(message) for message in messages]
    assert setting in ours[0].msg
    assert ours[0].hint
    assert setting in ours[0].hint
    assert ours[0].is_serious()
    if setting == "SCOTACCOUNT_PRIVATE_KEY":
        assert "BEGIN" not in ours[0].msg + ours[0].hint  # the value is never shown


def test_the_right_types_pass(settings, tmp_path: Path) -> None:
    settings.SCOTACCOUNT_CLOCK_LEEWAY = timedelta(seconds=20)
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 1800
    settings.SCOTACCOUNT_ID_TOKEN_ALGORITHMS = ("RS256",)
    assert "scotaccount.E060" not in {message.id for message in checks.run_checks()}
