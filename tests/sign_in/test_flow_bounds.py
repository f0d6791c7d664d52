"""SECURITY L1 and L2 through the views: flows are bounded, the flow cookie resists injection."""

from __future__ import annotations

import pytest

from scotaccount_django.conf import conf
from scotaccount_django.models import AuthorizationFlow, ScotAccountIdentity
from tests.flow_helpers import LOGIN_PATH, complete, start_flow

pytestmark = pytest.mark.django_db

HTTPS_CALLBACK = "https://council.example/scotaccount/callback/"


def test_l1_a_flood_of_logins_without_cookies_is_rate_limited(client, fake_scotaccount, settings):
    settings.SCOTACCOUNT_FLOW_RATE_LIMIT = 20
    statuses = [
        client.get(LOGIN_PATH).status_code for _ in range(200) if not client.cookies.clear()
    ]
    assert statuses[:20] == [302] * 20
    assert set(statuses[20:]) == {429}
    assert AuthorizationFlow.objects.count() == 20


def test_l1_a_flood_from_one_browser_keeps_only_the_cap(client, fake_scotaccount, settings):
    assert conf.MAX_PENDING_FLOWS_PER_BROWSER == 5
    for _ in range(25):
        assert client.get(LOGIN_PATH).status_code == 302
    assert AuthorizationFlow.objects.count() == 5


def test_l1_the_rate_limit_is_per_address(client, fake_scotaccount, settings):
    settings.SCOTACCOUNT_FLOW_RATE_LIMIT = 2
    for _ in range(2):
        assert client.get(LOGIN_PATH).status_code == 302
    assert client.get(LOGIN_PATH).status_code == 429
    assert client.get(LOGIN_PATH, REMOTE_ADDR="192.0.2.7").status_code == 302


def test_l1_an_overlong_next_is_dropped_not_stored(client, fake_scotaccount):
    assert client.get(LOGIN_PATH, {"next": "/" + "a" * 3000}).status_code == 302
    assert AuthorizationFlow.objects.get().next_url == ""


def test_l2_the_flow_cookie_is_host_prefixed_on_https(client, fake_scotaccount, settings):
    settings.SCOTACCOUNT_REDIRECT_URI = HTTPS_CALLBACK
    response = client.get(LOGIN_PATH, secure=True)
    cookie = response.cookies["__Host-scotaccount_flow"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["path"] == "/"
    assert not cookie["domain"]
    assert "scotaccount_flow" not in response.cookies


def test_l2_planted_flow_cookie_is_not_adopted(client, fake_scotaccount):
    """The attacker plants a cookie value they know, then hands the victim their own callback."""
    planted = "A" * 43
    attacker = client_class_copy(client)
    attacker.cookies["scotaccount_flow"] = planted
    attackers_authorize_url = start_flow(attacker)
    assert attacker.cookies["scotaccount_flow"].value != planted  # not adopted: a fresh binding
    client.cookies["scotaccount_flow"] = planted  # planted in the victim's browser
    response = complete(client, fake_scotaccount, attackers_authorize_url, persona="morag")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()


def client_class_copy(client):
    return type(client)()
