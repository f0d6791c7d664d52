"""Discovery and JWKS in the shared cache: outages, back-off, poisoning, truncated answers."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.core.cache import cache

from scotaccount_django._internal import provider
from scotaccount_django._internal.jwtkit import pick_key
from scotaccount_django._internal.provider import cache_key
from scotaccount_django.conf import Settings, conf
from scotaccount_django.models import ScotAccountIdentity
from tests.back_channel.test_jwks import rsa_jwk
from tests.flow_helpers import sign_in, start_flow

pytestmark = pytest.mark.django_db

LOGIN = "/scotaccount/login/"


def attempts(fake, endpoint: str) -> int:
    return len(fake.journal.for_endpoint(endpoint))


def discovery_key(fake) -> str:
    return cache_key("discovery", fake.issuer, fake.discovery_url)


def jwks_key(fake) -> str:
    return cache_key("jwks", fake.issuer, fake.jwks_url)


@pytest.fixture
def stale_metadata(client, fake_scotaccount, settings, monkeypatch):
    """A person signed in once (metadata cached), and the cached copies now stale."""
    assert sign_in(client, fake_scotaccount).status_code == 302
    monkeypatch.setattr(conf, "METADATA_CACHE_TIMEOUT", timedelta(0))
    settings.SCOTACCOUNT_TIMEOUT = 0.3
    fake_scotaccount.scenarios.timeout_delay = 3
    return fake_scotaccount


def test_l5_stale_copy_is_served_while_a_failed_refresh_backs_off(client, stale_metadata) -> None:
    fake = stale_metadata
    fake.scenarios.add("discovery_timeout", times=None)
    before = attempts(fake, "discovery")
    started = time.monotonic()
    for _ in range(6):
        assert client.get(LOGIN).status_code == 302  # to ScotAccount, with stale endpoints
    assert attempts(fake, "discovery") == before + 1  # one refresh, then back-off
    assert time.monotonic() - started < 0.8 + 6 * 0.3  # one timeout, not six
    cache.delete(f"{discovery_key(fake)}:fetch")  # the back-off window has passed
    assert client.get(LOGIN).status_code == 302
    assert attempts(fake, "discovery") == before + 2


def test_l5_a_refresh_under_way_elsewhere_serves_the_stale_copy(client, stale_metadata) -> None:
    fake = stale_metadata
    cache.add(f"{discovery_key(fake)}:fetch", "refreshing", 30)  # another worker is on it
    before = attempts(fake, "discovery")
    assert client.get(LOGIN).status_code == 302
    assert attempts(fake, "discovery") == before


def test_l5_a_successful_refresh_ends_the_back_off(client, stale_metadata) -> None:
    fake = stale_metadata
    before = attempts(fake, "discovery")
    assert client.get(LOGIN).status_code == 302
    assert client.get(LOGIN).status_code == 302
    assert attempts(fake, "discovery") == before + 2  # stale each time (timeout 0): refetched
    assert cache.get(f"{discovery_key(fake)}:fetch") is None


def test_l5_cold_cache_after_a_failure_fails_at_once(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("discovery_connection_closed", times=None)
    assert client.get(LOGIN).status_code == 503
    assert attempts(fake_scotaccount, "discovery") == 1
    for _ in range(3):
        response = client.get(LOGIN)
        assert response.status_code == 503
        assert b"ScotAccount is not available" in response.content
    assert attempts(fake_scotaccount, "discovery") == 1


def test_j1_jwks_down_with_a_stale_copy_still_signs_in(client, stale_metadata) -> None:
    stale_metadata.scenarios.add("jwks_http_503", times=None)
    stale_metadata.scenarios.add("discovery_http_503", times=None)
    for _ in range(2):
        assert sign_in(client, stale_metadata).status_code == 302
    assert attempts(stale_metadata, "jwks") == 2  # the first sign-in, then one failed refresh


def saved(key: str) -> dict:
    """What the app signed into the cache entry: the document and when it was fetched."""
    return signing.loads(cache.get(key), salt=key)


def poison(key: str, **changes) -> None:
    content = saved(key)
    content["document"].update(changes)
    cache.set(key, signing.dumps(content, key="not this site's SECRET_KEY", salt=key))


def test_l9_poisoned_discovery_entry_cannot_redirect_endpoints(client, fake_scotaccount) -> None:
    assert sign_in(client, fake_scotaccount).status_code == 302
    poison(discovery_key(fake_scotaccount), token_endpoint="https://attacker.example/token")
    before = attempts(fake_scotaccount, "discovery")
    assert sign_in(client, fake_scotaccount).status_code == 302  # the token went to the fake
    assert attempts(fake_scotaccount, "discovery") == before + 1  # the entry was replaced
    assert "attacker" not in json.dumps(saved(discovery_key(fake_scotaccount)))


def test_l9_entry_signed_for_another_key_is_not_used(client, fake_scotaccount) -> None:
    """A valid entry copied under another key (another issuer's, say) fails its signature."""
    client.get(LOGIN)
    entry = cache.get(discovery_key(fake_scotaccount))
    other = cache_key("discovery", "https://other.example", fake_scotaccount.discovery_url)
    cache.set(other, entry)
    assert provider._read(other, lambda document: document) is None


def test_l9_cached_document_is_revalidated_on_read(client, fake_scotaccount) -> None:
    """Even an entry this app signed is checked again, as on fetch."""
    client.get(LOGIN)
    key = discovery_key(fake_scotaccount)
    content = saved(key)
    content["document"]["token_endpoint"] = "http://attacker.example/token"  # not https
    cache.set(key, signing.dumps(content, salt=key))  # signed as the app signs
    before = attempts(fake_scotaccount, "discovery")
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"].startswith(fake_scotaccount.issuer)
    assert attempts(fake_scotaccount, "discovery") == before + 1


def test_l9_cache_is_keyed_by_issuer(client, fake_scotaccount, monkeypatch) -> None:
    client.get(LOGIN)
    monkeypatch.setattr(Settings, "ISSUER", property(lambda _: "https://another-issuer.example"))
    before = attempts(fake_scotaccount, "discovery")
    assert client.get(LOGIN).status_code == 502  # refetched, and refused: not that issuer's
    assert attempts(fake_scotaccount, "discovery") == before + 1


def test_l9_poisoned_jwks_entry_does_not_plant_a_key(client, fake_scotaccount) -> None:
    assert sign_in(client, fake_scotaccount).status_code == 302
    planted = rsa_jwk("attacker-key")
    poison(jwks_key(fake_scotaccount), keys=[planted])
    find = {"issuer": fake_scotaccount.issuer, "algorithm": "RS256"}
    assert pick_key(fake_scotaccount.jwks_url, kid="attacker-key", **find) is None
    assert sign_in(client, fake_scotaccount).status_code == 302


def test_j2_truncated_token_response_is_a_friendly_page(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("token_truncated_body")
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 503
    assert b"ScotAccount is not available" in response.content
    assert not ScotAccountIdentity.objects.exists()
    assert attempts(fake_scotaccount, "token") == 1


def test_j2_trickling_token_endpoint_is_cut_off_at_the_deadline(
    client, fake_scotaccount, settings
) -> None:
    settings.SCOTACCOUNT_TIMEOUT = 1.5  # each byte comes within 1 s
    location = fake_scotaccount.complete_authorization(start_flow(client))
    fake_scotaccount.scenarios.add("token_trickle")
    started = time.monotonic()
    response = client.get(location.removeprefix("http://testserver"))
    assert response.status_code == 503
    assert time.monotonic() - started < 3  # the whole answer would take minutes


def test_j4_ip_allow_list_403_is_shown_as_a_configuration_problem(
    client, fake_scotaccount
) -> None:
    fake_scotaccount.scenarios.add("token_http_403")
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 502
    assert b"problem with this service" in response.content


def test_e6_jwks_redirect_is_not_followed(client, fake_scotaccount) -> None:
    fake_scotaccount.scenarios.add("jwks_redirect_other_host", times=None)
    assert sign_in(client, fake_scotaccount).status_code == 502
    assert attempts(fake_scotaccount, "captured") == 0
    assert "_auth_user_id" not in client.session


def test_e6_keys_are_parsed_once_per_fetch(client, fake_scotaccount, monkeypatch) -> None:
    from scotaccount_django._internal import jwtkit

    parsed = []
    real = jwtkit.parse_key_set
    monkeypatch.setattr(
        jwtkit, "parse_key_set", lambda document: parsed.append(1) or real(document)
    )
    for _ in range(3):
        assert sign_in(client, fake_scotaccount).status_code == 302
    assert attempts(fake_scotaccount, "jwks") == 1
    assert len(parsed) == 1  # the parsed key set is what is held, not the JSON
