"""SECURITY L7: what ScotAccount's redirect carries never forges or floods a log line."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import start_flow

pytestmark = pytest.mark.django_db

FORGED = "access_denied\r\n2026-01-01 WARNING scotaccount_django Signed in as admin"


def return_with_error(client, error: str):
    state = parse_qs(urlsplit(start_flow(client)).query)["state"][0]
    query = urlencode({"state": state, "error": error, "error_description": "x"})
    return client.get(f"/scotaccount/callback/?{query}")


@pytest.mark.parametrize(
    "error",
    [FORGED, "access_denied\n", "bad\u2028line", 'quote"and\\slash', "x" * 4000, "\x1b[31mred"],
)
def test_l7_error_values_outside_rfc6749_never_forge_a_log_line(
    client, fake_scotaccount, caplog, error
):
    with caplog.at_level("DEBUG"):
        response = return_with_error(client, error)
    assert response.status_code == 400 or response.status_code < 500
    assert not ScotAccountIdentity.objects.exists()
    for record in caplog.records:
        message = record.getMessage()
        assert not {"\n", "\r", "\u2028", "\x1b"} & set(message)
        assert len(message) < 1000
    assert "Signed in as admin\n" not in caplog.text
    assert response.context["error_code"] == "authorization_error"


def test_l7_a_well_formed_error_is_logged_as_sent(client, fake_scotaccount, caplog):
    with caplog.at_level("DEBUG"):
        return_with_error(client, "temporarily_unavailable")
    assert "temporarily_unavailable" in caplog.text
