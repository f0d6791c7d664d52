"""SECURITY L1 and L2 through the views: flows are bounded, the flow cookie resists injection."""

from __future__ import annotations

import pytest

from scotaccount_django._internal import flows
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import LOGIN_PATH, complete, pending_flows, start_flow

pytestmark = pytest.mark.django_db

HTTPS_CALLBACK = "https://council.example/scotaccount/callback/"


def test_l1_starting_a_flow_writes_nothing_server_side(
    client, fake_scotaccount, django_assert_num_queries
):
    start_flow(client)  # warm: discovery is cached
    client.cookies.clear()
    with django_assert_num_queries(0):
        assert client.get(LOGIN_PATH).status_code == 302


def test_l1_a_flood_from_one_browser_keeps_only_the_cap(client, fake_scotaccount):
    for _ in range(25):
        assert client.get(LOGIN_PATH).status_code == 302
    assert len(pending_flows(client)) == flows.POOL_SIZES["site"]


def test_l1_an_overlong_next_is_dropped_not_stored(client, fake_scotaccount):
    assert client.get(LOGIN_PATH, {"next": "/" + "a" * 3000}).status_code == 302
    assert [flow.next_url for flow in pending_flows(client)] == [""]


def test_l2_the_flow_cookie_is_host_prefixed_on_https(client, fake_scotaccount, settings):
    settings.SCOTACCOUNT_REDIRECT_URI = HTTPS_CALLBACK
    response = client.get(LOGIN_PATH, secure=True)
    [(name, cookie)] = response.cookies.items()
    assert name.startswith("__Host-scotaccount_flow_")
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["path"] == "/"
    assert cookie["samesite"] == "Lax"
    assert not cookie["domain"]


def test_l2_a_planted_binding_is_never_adopted(client, fake_scotaccount):
    """A cookie value not sealed here, under the name the attacker's state implies."""
    attacker = type(client)()
    attackers_authorize_url = start_flow(attacker)
    [name] = [name for name, morsel in attacker.cookies.items() if morsel.value]
    client.cookies[name] = "A" * 120  # planted in the victim's browser
    response = complete(client, fake_scotaccount, attackers_authorize_url, persona="morag")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()
