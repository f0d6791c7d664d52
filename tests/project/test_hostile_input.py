"""No public URL answers hostile input with a server error."""

from __future__ import annotations

import pytest

from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "/ok\x00/",
    "a" * 10_000,
    "%00",
    "\U0001f600\u202e",
    "/\r\nSet-Cookie: x=1",
    "../../../etc/passwd",
    "<script>alert(1)</script>",
]
PATHS = [
    "/scotaccount/login/",
    "/scotaccount/callback/",
    "/scotaccount/attributes/",
    "/scotaccount/logout/",
    "/scotaccount/logged-out/",
    "/scotaccount/frontchannel-logout/",
]
PARAMETERS = ["next", "state", "code", "error", "error_description", "iss", "sid", "scope"]


@pytest.mark.parametrize("path", PATHS)
def test_hostile_query_values_never_cause_a_server_error(client, fake_scotaccount, path) -> None:
    """Every answer is the app's own: a 4xx, a page or a redirect, never a 5xx."""
    sign_in(client, fake_scotaccount)
    for value in HOSTILE:
        for name in PARAMETERS:
            response = client.get(path, {name: value})
            assert response.status_code < 500, (name, value, response.status_code)
            assert b"Traceback" not in response.content
    for value in HOSTILE:
        assert client.post(path, {"next": value}).status_code < 500, value


@pytest.mark.parametrize("path", PATHS)
def test_hostile_cookies_never_cause_a_server_error(client, fake_scotaccount, path) -> None:
    # A Cookie header is latin-1 on one line: the other values cannot be sent at all.
    for value in [v for v in HOSTILE if v.isascii() and "\n" not in v]:
        client.cookies["scotaccount_flow"] = value
        client.cookies["sessionid"] = value
        response = client.get(path, {"state": "x", "code": "y"})
        assert response.status_code < 500, (value, response.status_code)
