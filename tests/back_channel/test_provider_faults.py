"""ScotAccount misbehaving: token endpoint faults, metadata outages, key rotation, caching."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache

from scotaccount_django._internal.jwtkit import pick_key
from scotaccount_django._internal.provider import cache_key
from scotaccount_django.conf import Settings, conf
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in, start_flow

pytestmark = pytest.mark.django_db


def count(fake, endpoint: str) -> int:
    return len(fake.journal.for_endpoint(endpoint))


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ("token_http_400", 502),
        ("token_http_401", 502),
        ("token_http_403", 502),
        ("token_http_404", 502),
        ("token_http_500", 503),
        ("token_http_502", 503),
        ("token_http_503", 503),
        ("token_malformed_json", 502),
        ("token_html_body", 502),
        ("token_redirect_other_host", 502),
        ("token_connection_closed", 503),
        ("token_missing_id_token", 502),
        ("token_missing_access_token", 502),
    ],
)
def test_c6_token_endpoint_faults_end_cleanly(client, fake_scotaccount, fault, status) -> None:
    fake_scotaccount.scenarios.add(fault)
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == status
    assert "_auth_user_id" not in client.session
    assert not ScotAccountIdentity.objects.exists()
    assert count(fake_scotaccount, "token") == 1  # the code is never POSTed twice


def test_c7_token_redirect_is_not_followed(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("token_redirect_other_host")
    sign_in(client, fake_scotaccount)
    assert count(fake_scotaccount, "captured") == 0  # our assertion never left for the other host


def test_j2_slow_token_endpoint_is_bounded_by_the_read_timeout(
    client, fake_scotaccount, settings
) -> None:
    settings.SCOTACCOUNT_TIMEOUT = 0.3
    fake_scotaccount.scenarios.timeout_delay = 2
    fake_scotaccount.scenarios.add("token_timeout")
    started = time.monotonic()
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 503
    assert time.monotonic() - started < 1.8


def test_warm_sign_in_makes_exactly_one_outbound_call(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount)
    before = len(fake_scotaccount.journal)
    authorize_url = start_flow(client)
    after_login_view = len(fake_scotaccount.journal)
    location = fake_scotaccount.complete_authorization(authorize_url)
    from_browser = len(fake_scotaccount.journal) - after_login_view
    from tests.flow_helpers import return_to_app

    return_to_app(client, location)
    app_calls = len(fake_scotaccount.journal) - before - from_browser
    assert after_login_view == before  # the login view used cached discovery
    assert app_calls == 1
    assert fake_scotaccount.journal.last().endpoint == "token"


def test_j1_discovery_down_uses_the_cached_copy(client, fake_scotaccount, monkeypatch) -> None:
    sign_in(client, fake_scotaccount)
    monkeypatch.setattr(conf, "METADATA_CACHE_TIMEOUT", timedelta(0))  # every use wants a refetch
    fake_scotaccount.scenarios.add("discovery_http_503", times=None)
    fake_scotaccount.scenarios.add("jwks_connection_closed", times=None)
    assert sign_in(client, fake_scotaccount).status_code == 302


def test_j1_discovery_down_with_a_cold_cache_is_a_quick_503(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("discovery_connection_closed", times=None)
    started = time.monotonic()
    response = client.get("/scotaccount/login/")
    assert response.status_code == 503
    assert time.monotonic() - started < 2


def test_e6_jwks_down_with_a_cold_cache_fails_closed(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("jwks_http_500", times=None)
    assert sign_in(client, fake_scotaccount).status_code == 503
    assert "_auth_user_id" not in client.session


def test_a6_discovery_with_another_issuer_is_refused(
    client, fake_scotaccount, monkeypatch
) -> None:
    # No trailing-slash tolerance. A property outranks the value conf keeps.
    monkeypatch.setattr(Settings, "ISSUER", property(lambda _: fake_scotaccount.issuer + "/"))
    response = client.get("/scotaccount/login/")
    assert response.status_code == 502
    key = cache_key("discovery", fake_scotaccount.issuer + "/", fake_scotaccount.discovery_url)
    assert cache.get(key) is None


def test_e2_key_rotation_mid_flow_refetches_once_and_succeeds(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount)  # keys cached
    jwks_fetches = count(fake_scotaccount, "jwks")
    fake_scotaccount.scenarios.add("key_rotation_mid_flow")
    assert sign_in(client, fake_scotaccount).status_code == 302
    assert count(fake_scotaccount, "jwks") == jwks_fetches + 1


def test_e3_a_flood_of_unknown_kids_fetches_the_jwks_at_most_once(
    client, fake_scotaccount
) -> None:
    sign_in(client, fake_scotaccount)
    jwks_fetches = count(fake_scotaccount, "jwks")
    fake_scotaccount.scenarios.add("id_token_unknown_kid", times=None)
    for _ in range(5):
        assert sign_in(client, fake_scotaccount).status_code == 502
    assert count(fake_scotaccount, "jwks") <= jwks_fetches + 1


def test_e2_rotation_with_the_old_key_removed_still_signs_in(client, fake_scotaccount) -> None:
    sign_in(client, fake_scotaccount)  # only the old key is cached
    old_kid = fake_scotaccount.signing_keys.active.kid
    fake_scotaccount.signing_keys.rotate()
    fake_scotaccount.signing_keys.remove(old_kid)
    assert sign_in(client, fake_scotaccount).status_code == 302


def test_e4_a_removed_key_stops_being_trusted_after_refresh(fake_scotaccount, monkeypatch) -> None:
    old_kid = fake_scotaccount.signing_keys.active.kid
    find = {"issuer": fake_scotaccount.issuer, "kid": old_kid, "algorithm": "RS256"}
    assert pick_key(fake_scotaccount.jwks_url, **find).key_id == old_kid
    fake_scotaccount.signing_keys.rotate()
    fake_scotaccount.signing_keys.remove(old_kid)
    monkeypatch.setattr(conf, "METADATA_CACHE_TIMEOUT", timedelta(0))
    assert pick_key(fake_scotaccount.jwks_url, **find) is None


def test_j1_provider_unreachable_at_login_shows_a_page_not_a_500(client, settings) -> None:
    settings.SCOTACCOUNT_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    response = client.get("/scotaccount/login/")
    assert response.status_code == 503
    assert b"ScotAccount is not available" in response.content
