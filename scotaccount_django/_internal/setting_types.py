"""The type every ``SCOTACCOUNT_*`` setting must have, so a wrong one is a check message.

Settings often come from environment variables, which are strings: ``"30"``
where seconds are wanted, or ``"RS256"`` where a list is. The system checks
report those here, before any other check reads the value and fails on it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Kind:
    """What a setting accepts, in words for the message, and how to test a value."""

    expected: str
    accepts: Callable[[Any], bool]
    example: str


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_duration(value: Any) -> bool:
    return isinstance(value, timedelta) or _is_number(value)


def _optional(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or accepts(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65535


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)


def _is_duration_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(key, str) and _is_duration(age) for key, age in value.items()
    )


TEXT = Kind("a string", _is_text, '"value"')
OPTIONAL_TEXT = Kind("a string or None", _optional(_is_text), '"value"')
OPTIONAL_PATH = Kind(
    "a path (string or pathlib.Path) or None",
    _optional(lambda value: isinstance(value, str | os.PathLike)),
    'BASE_DIR / "secrets" / "scotaccount.pem"',
)
TEXT_LIST = Kind("a list of strings", _is_text_list, '["RS256"]')
DURATION = Kind(
    "a number of seconds or a datetime.timedelta", _is_duration, "timedelta(seconds=30)"
)
OPTIONAL_DURATION = Kind(
    "a number of seconds, a datetime.timedelta or None",
    _optional(_is_duration),
    "timedelta(minutes=30)",
)
FLAG = Kind("True or False", lambda value: isinstance(value, bool), "True")
DURATION_MAP = Kind(
    "a dict of scope name to seconds or datetime.timedelta",
    _is_duration_map,
    '{"scotaccount.address": timedelta(days=30)}',
)
COUNT = Kind("a whole number", lambda value: _is_number(value) and isinstance(value, int), "5")
OPTIONAL_COUNT = Kind(
    "a whole number or None",
    _optional(lambda value: _is_number(value) and isinstance(value, int)),
    "30",
)
KEY_LIST = Kind(
    "a list of Fernet keys",
    lambda value: (
        isinstance(value, list | tuple) and all(isinstance(key, str | bytes) for key in value)
    ),
    '[os.environ["ATTRIBUTE_KEY"]]',
)
PORT = Kind("a port number (an int from 1 to 65534)", _is_port, "8001")

#: Every setting in ``conf.DEFAULTS`` -> its kind; a test keeps the two in step.
SETTING_KINDS: dict[str, Kind] = {
    "SCOTACCOUNT_CLIENT_ID": OPTIONAL_TEXT,
    "SCOTACCOUNT_ENVIRONMENT": TEXT,
    "SCOTACCOUNT_DISCOVERY_URL": OPTIONAL_TEXT,
    "SCOTACCOUNT_ISSUER": OPTIONAL_TEXT,
    "SCOTACCOUNT_ATTRIBUTES_URL": OPTIONAL_TEXT,
    "SCOTACCOUNT_ATTRIBUTES_ISSUER": OPTIONAL_TEXT,
    "SCOTACCOUNT_ATTRIBUTES_JWKS_URL": OPTIONAL_TEXT,
    "SCOTACCOUNT_PRIVATE_KEY_FILE": OPTIONAL_PATH,
    "SCOTACCOUNT_PRIVATE_KEY": OPTIONAL_TEXT,
    "SCOTACCOUNT_PRIVATE_KEY_ID": OPTIONAL_TEXT,
    "SCOTACCOUNT_REDIRECT_URI": OPTIONAL_TEXT,
    "SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI": OPTIONAL_TEXT,
    "SCOTACCOUNT_ID_TOKEN_ALGORITHMS": TEXT_LIST,
    "SCOTACCOUNT_END_SESSION_URL": OPTIONAL_TEXT,
    "SCOTACCOUNT_CONNECT_TIMEOUT": DURATION,
    "SCOTACCOUNT_READ_TIMEOUT": DURATION,
    "SCOTACCOUNT_CA_BUNDLE": OPTIONAL_PATH,
    "SCOTACCOUNT_CLOCK_LEEWAY": DURATION,
    "SCOTACCOUNT_FLOW_LIFETIME": DURATION,
    "SCOTACCOUNT_FLOW_COOKIE_NAME": TEXT,
    "SCOTACCOUNT_METADATA_CACHE_TIMEOUT": DURATION,
    "SCOTACCOUNT_CACHE_ALIAS": TEXT,
    "SCOTACCOUNT_CREATE_USERS": FLAG,
    "SCOTACCOUNT_SESSION_LIFETIME": DURATION,
    "SCOTACCOUNT_SESSION_IDLE_TIMEOUT": OPTIONAL_DURATION,
    "SCOTACCOUNT_SESSION_LIFETIME_FOR_ALL_USERS": FLAG,
    "SCOTACCOUNT_ATTRIBUTE_MAX_AGE": DURATION_MAP,
    "SCOTACCOUNT_ATTRIBUTES_UNAVAILABLE_HANDLER": OPTIONAL_TEXT,
    "SCOTACCOUNT_LOCAL_PORT": PORT,
    "SCOTACCOUNT_CLAIMS_TOKEN_MAX_AGE": DURATION,
    "SCOTACCOUNT_MAX_PENDING_FLOWS_PER_BROWSER": COUNT,
    "SCOTACCOUNT_FLOW_RATE_LIMIT": OPTIONAL_COUNT,
    "SCOTACCOUNT_FLOW_RATE_WINDOW": DURATION,
    "SCOTACCOUNT_ACCEPT_VERIFIED_WITH_WARNINGS": FLAG,
    "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS": KEY_LIST,
}
