"""Every setting of the wrong type is a scotaccount.E060 message with a hint, never a traceback."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.core import checks

from scotaccount_django.conf import KEPT, SETTINGS, Settings, conf

#: One wrong value per setting, as a council would write it (often from os.environ).
WRONG: dict[str, object] = {
    "SCOTACCOUNT_CLIENT_ID": 1234,
    "SCOTACCOUNT_ENVIRONMENT": ["integration"],
    "SCOTACCOUNT_LOCAL_PORT": "8001",
    "SCOTACCOUNT_ALLOW_LOCAL_WITHOUT_DEBUG": "yes",
    "SCOTACCOUNT_DISCOVERY_URL": ["https://authz.example/.well-known/openid-configuration"],
    "SCOTACCOUNT_ATTRIBUTES_URL": ("https://issuer.example/attributes/values",),
    "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": {"url": "https://issuer.example/jwks.json"},
    "SCOTACCOUNT_PRIVATE_KEY": b"-----BEGIN PRIVATE KEY-----",
    "SCOTACCOUNT_REDIRECT_URI": ["http://localhost:8000/scotaccount/callback/"],
    "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI": 0,
    "SCOTACCOUNT_TIMEOUT": "5",
    "SCOTACCOUNT_CA_BUNDLE": True,
    "SCOTACCOUNT_CACHE_ALIAS": None,
    "SCOTACCOUNT_CREATE_USERS": "False",
    "SCOTACCOUNT_SESSION_LIFETIME": "4h",
    "SCOTACCOUNT_SESSION_IDLE_TIMEOUT": True,
    "SCOTACCOUNT_ATTRIBUTE_MAX_AGE": {"scotaccount.address": "a day"},
    "SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS": print,
    "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS": "one-key-not-in-a-list",
}


def e060(setting: str, value: object) -> checks.CheckMessage:
    messages = checks.run_checks(include_deployment_checks=True)
    ours = [message for message in messages if message.id == "scotaccount.E060"]
    assert len(ours) == 1, [str(message) for message in messages]
    return ours[0]


def test_every_setting_has_a_wrong_value_here() -> None:
    assert [row.name for row in SETTINGS] == list(WRONG)


def test_every_default_is_of_its_own_kind_and_valid() -> None:
    assert [row.name for row in SETTINGS if not row.kind.accepts(row.default)] == []
    assert [row.name for row in SETTINGS if not row.kind.valid(row.default)] == []


def test_every_example_is_of_its_own_kind() -> None:
    """The hint's example is a value that fits the setting (never one shared duration)."""
    namespace = {"timedelta": timedelta, "BASE_DIR": __import__("pathlib").Path("/srv")}
    namespace["os"] = type("os", (), {"environ": {"SCOTACCOUNT_ATTRIBUTE_KEY": "k"}})
    for row in SETTINGS:
        value = eval(row.example, namespace)
        assert row.kind.accepts(value), row.name
        assert row.kind.valid(value), row.name


@pytest.mark.parametrize(("setting", "value"), WRONG.items(), ids=list(WRONG))
def test_a_wrong_type_is_a_check_message_with_a_hint(settings, setting, value) -> None:
    setattr(settings, setting, value)
    message = e060(setting, value)
    assert message.msg.startswith(f"{setting} is ")
    assert f"For example {setting} = " in message.hint
    assert message.is_serious()
    assert "BEGIN" not in message.msg + message.hint  # the value is never shown


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (8001.0, "is a float;"),
        (1234, "is an int;"),
        (print, "is a function;"),
        (lambda: 1, "is a function;"),
        (None, "is None;"),
    ],
)
def test_e060_names_the_type_with_the_right_article(settings, value, words) -> None:
    settings.SCOTACCOUNT_CACHE_ALIAS = value
    message = e060("SCOTACCOUNT_CACHE_ALIAS", value)
    assert f"SCOTACCOUNT_CACHE_ALIAS {words} it must be a string." == message.msg
    assert "builtin_function_or_method" not in message.msg


def test_a_port_out_of_range_is_a_range_error_not_a_type_error(settings) -> None:
    settings.SCOTACCOUNT_LOCAL_PORT = 99999
    ids = {m.id: m for m in checks.run_checks()}
    assert "scotaccount.E060" not in ids
    message = ids["scotaccount.E022"]
    assert message.msg == (
        "SCOTACCOUNT_LOCAL_PORT is 99999; it must be from 1 to 65534 "
        "(the fake also uses the next)."
    )
    assert message.hint == "For example SCOTACCOUNT_LOCAL_PORT = 8001."


@pytest.mark.parametrize(
    ("setting", "example"),
    [
        ("SCOTACCOUNT_TIMEOUT", "10"),
        ("SCOTACCOUNT_SESSION_LIFETIME", "timedelta(hours=4)"),
        ("SCOTACCOUNT_SESSION_IDLE_TIMEOUT", "timedelta(minutes=30)"),
    ],
)
def test_each_duration_hint_suggests_a_value_fitting_that_setting(settings, setting, example):
    setattr(settings, setting, "30")
    message = e060(setting, "30")
    assert message.hint.startswith(f"For example {setting} = {example}.")


def test_the_right_types_pass(settings) -> None:
    settings.SCOTACCOUNT_TIMEOUT = timedelta(seconds=20)
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 1800
    settings.SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS = ()
    assert "scotaccount.E060" not in {message.id for message in checks.run_checks()}


def test_accessors_read_at_call_time_and_convert(settings) -> None:
    settings.SCOTACCOUNT_TIMEOUT = 7
    assert timedelta(seconds=7) == conf.TIMEOUT
    settings.SCOTACCOUNT_TIMEOUT = timedelta(milliseconds=1500)
    assert timedelta(seconds=1.5) == conf.TIMEOUT
    assert isinstance(Settings.TIMEOUT.doc, str)


def test_a_value_is_converted_once_and_forgotten_when_a_setting_changes(settings) -> None:
    settings.SCOTACCOUNT_DISCOVERY_URL = "https://a.example/.well-known/openid-configuration"
    assert conf.ISSUER == "https://a.example"
    assert vars(conf)["ISSUER"] == "https://a.example"  # kept on conf
    settings.SCOTACCOUNT_DISCOVERY_URL = "https://b.example/.well-known/openid-configuration"
    assert conf.ISSUER == "https://b.example"  # setting_changed cleared it


def test_reading_a_kept_value_runs_no_python_code() -> None:
    """The hot path: after the first read, ``conf.X`` is a plain attribute read."""
    names = [*KEPT, "CLOCK_LEEWAY", "ID_TOKEN_ALGORITHMS", "FLOW_LIFETIME"]
    first = [getattr(conf, name) for name in names]
    calls: list[str] = []
    sys.setprofile(
        lambda frame, event, arg: event == "call" and calls.append(frame.f_code.co_name)
    )
    again = []
    try:
        for name in names:  # a loop, not a comprehension: that is a call of its own
            again.append(getattr(conf, name))
    finally:
        sys.setprofile(None)
    assert calls == []
    assert again == first
