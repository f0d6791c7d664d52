"""The flow: PKCE, fresh secrets, sealed cookies, single use, expiry, browser binding, tabs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import RequestFactory
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django._internal import flows
from scotaccount_django._internal.flows import Purpose, hash_secret
from scotaccount_django._internal.provider import ProviderMetadata
from scotaccount_django.exceptions import BadCallback, BrowserMismatch, FlowExpired, UnknownFlow

pytestmark = pytest.mark.django_db

METADATA = ProviderMetadata(
    issuer="https://authz.example",
    authorization_endpoint="https://authz.example/authorize",
    token_endpoint="https://authz.example/token",
    jwks_uri="https://authz.example/jwks.json",
    end_session_endpoint=None,
)
REDIRECT_URI = "https://council.example/scotaccount/callback/"
#: On https the flow cookies carry the __Host- prefix (SECURITY L2).
PREFIX = "__Host-scotaccount_flow_"


@pytest.fixture(autouse=True)
def provider(monkeypatch, settings) -> None:
    monkeypatch.setattr(flows, "get_metadata", lambda: METADATA)
    settings.SCOTACCOUNT_REDIRECT_URI = REDIRECT_URI


class Browser:
    """A cookie jar that applies what each response sets and deletes."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, path: str, **headers: str):
        request = RequestFactory().get(path, **headers)
        request.COOKIES.update(self.cookies)
        return request

    def keep(self, response) -> None:
        for name, morsel in response.cookies.items():
            if morsel.value:
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)

    @property
    def flows(self) -> list[flows.Flow]:
        return [flows.unseal(value) for name, value in self.cookies.items()]


def start(browser: Browser | None = None, *, cross_site: bool = False, **kwargs):
    """Start a flow as the login or step-up view does; (the browser, the authorize query)."""
    browser = browser or Browser()
    headers = {"HTTP_SEC_FETCH_SITE": "cross-site"} if cross_site else {}
    response = flows.start_authorization(
        browser.request("/scotaccount/login/", **headers),
        purpose=kwargs.pop("purpose", Purpose.SIGN_IN),
        scopes=kwargs.pop("scopes", ["openid"]),
        next_url=kwargs.pop("next_url", ""),
        **kwargs,
    )
    browser.keep(response)
    browser.response = response
    params = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    return browser, params


def consume_flow(browser: Browser, state):
    return flows.consume(browser.request("/scotaccount/callback/"), state).flow


def test_a2_pkce_s256_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert (
        generate_code_challenge(verifier, "S256") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_a1_authorization_request_has_everything_scotaccount_requires(settings) -> None:
    _, params = start()
    assert params["response_type"] == "code"
    assert params["scope"] == "openid"
    assert params["client_id"] == settings.SCOTACCOUNT_CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43
    assert len(params["nonce"]) >= 43


def test_m8_the_flow_starting_redirect_is_never_cached() -> None:
    browser, _ = start()
    assert browser.response["Cache-Control"] == "no-store"


def test_a8_secrets_are_stored_hashed_and_verifier_matches_challenge() -> None:
    browser, params = start()
    [(name, value)] = browser.cookies.items()
    assert name == PREFIX + hash_secret(params["state"])[:16]
    for secret in (params["state"], params["nonce"]):
        assert secret not in value
    [flow] = browser.flows
    assert flow.code_verifier not in value  # encrypted, not only signed
    assert flow.state_hash == hash_secret(params["state"])
    assert flow.nonce_hash == hash_secret(params["nonce"])
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", flow.code_verifier)
    digest = hashlib.sha256(flow.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_a3_a4_every_flow_gets_fresh_state_nonce_and_verifier() -> None:
    firsts = [start()[1] for _ in range(5)]
    assert len({p["state"] for p in firsts}) == 5
    assert len({p["nonce"] for p in firsts}) == 5
    assert len({p["code_challenge"] for p in firsts}) == 5


def test_flow_is_consumed_exactly_once() -> None:
    browser, params = start()
    assert consume_flow(browser, params["state"]).redirect_uri == REDIRECT_URI
    with pytest.raises(UnknownFlow):  # the same cookie again: a replay
        consume_flow(browser, params["state"])


def test_under_debug_the_callback_derives_the_redirect_uri_as_the_start_did(settings) -> None:
    """No ``SCOTACCOUNT_REDIRECT_URI``: in ``DEBUG`` both ends read it from the request."""
    settings.DEBUG = True
    del settings.SCOTACCOUNT_REDIRECT_URI
    browser, params = start()
    assert params["redirect_uri"] == "http://testserver/scotaccount/callback/"
    assert consume_flow(browser, params["state"]).redirect_uri == params["redirect_uri"]


def test_b2_missing_or_unknown_state_is_refused() -> None:
    browser, _ = start()
    with pytest.raises(UnknownFlow):
        consume_flow(browser, None)
    with pytest.raises(BrowserMismatch):
        consume_flow(browser, "forged-state")


def test_b9_a_callback_value_of_4096_characters_is_read_and_a_longer_one_refused() -> None:
    def read(code: str) -> dict[str, str]:
        request = RequestFactory().get("/scotaccount/callback/", {"code": code, "state": "s"})
        return flows.read_query_parameters(request, flows.CALLBACK_PARAMETERS)

    assert read("a" * 4096) == {"code": "a" * 4096, "state": "s"}
    with pytest.raises(BadCallback):
        read("a" * 4097)


def test_another_browser_cannot_complete_the_flow() -> None:
    _, params = start()
    with pytest.raises(BrowserMismatch):
        consume_flow(Browser(), params["state"])


def test_a_tampered_or_foreign_cookie_is_refused() -> None:
    browser, params = start()
    [name] = browser.cookies
    browser.cookies[name] = browser.cookies[name][:-2] + "AA"
    with pytest.raises(BrowserMismatch):
        consume_flow(browser, params["state"])


def test_a_cookie_sealed_with_another_secret_key_is_refused(settings) -> None:
    browser, params = start()
    settings.SECRET_KEY = "another-" + "k" * 50
    with pytest.raises(BrowserMismatch):
        consume_flow(browser, params["state"])


def test_a_rotated_secret_key_keeps_pending_flows(settings) -> None:
    old = settings.SECRET_KEY
    browser, params = start()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-" + "k" * 50, [old]
    assert consume_flow(browser, params["state"]).purpose == Purpose.SIGN_IN


def test_a_flows_cookie_cannot_answer_for_another_state() -> None:
    browser, params = start()
    other, _ = start()
    [(name, _)] = browser.cookies.items()
    browser.cookies[name] = other.cookies.popitem()[1]
    with pytest.raises(BrowserMismatch):
        consume_flow(browser, params["state"])


def test_b5_flow_one_minute_short_of_seven_days_succeeds() -> None:
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        browser, params = start()
        clock.shift(timedelta(days=7) - timedelta(minutes=1))
        consume_flow(browser, params["state"])


def test_b5_flow_one_minute_past_seven_days_fails_and_is_purged() -> None:
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        browser, params = start()
        clock.shift(timedelta(days=7) + timedelta(minutes=1))
        with pytest.raises(FlowExpired):
            consume_flow(browser, params["state"])
    # The browser itself drops the cookie then: nothing is left to purge anywhere.
    [cookie] = browser.response.cookies.values()
    assert int(cookie["max-age"]) == 7 * 24 * 3600


def test_b5_a_flow_is_refused_at_the_very_second_it_expires() -> None:
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        browser, params = start()
        clock.shift(timedelta(days=7))
        with pytest.raises(FlowExpired):
            consume_flow(browser, params["state"])


def test_k2_two_tabs_share_the_browser_cookie_and_both_complete() -> None:
    """Each tab's flow has a cookie of its own in the one browser."""
    browser, first = start(next_url="/one/")
    browser, second = start(browser, next_url="/two/")
    assert len(browser.cookies) == 2
    assert consume_flow(browser, second["state"]).next_url == "/two/"
    assert consume_flow(browser, first["state"]).next_url == "/one/"


def test_l2_an_unprefixed_cookie_is_ignored_on_https() -> None:
    browser, params = start()
    [(name, value)] = browser.cookies.items()
    browser.cookies = {name.removeprefix("__Host-"): value}  # another subdomain can set this
    with pytest.raises(BrowserMismatch):
        consume_flow(browser, params["state"])


def test_l1_a_browser_keeps_at_most_the_cap_of_pending_flows() -> None:
    browser, states = Browser(), []
    for _ in range(10):
        states.append(start(browser)[1]["state"])
    assert len(browser.cookies) == flows.POOL_SIZES["site"]
    assert consume_flow(browser, states[-1]).purpose == Purpose.SIGN_IN  # the newest are kept
    with pytest.raises(BrowserMismatch):
        consume_flow(browser, states[0])


def test_m1_flows_from_another_site_only_crowd_out_each_other() -> None:
    browser, own = start(purpose=Purpose.ATTRIBUTES, scopes=["openid", "scotaccount.address"])
    for _ in range(10):
        start(browser, cross_site=True, next_url="/" + "a" * 2000)
    assert len(browser.cookies) == 1 + flows.POOL_SIZES["cross"]
    assert consume_flow(browser, own["state"]).purpose == Purpose.ATTRIBUTES


def test_l1_the_sites_other_cookies_do_not_hide_flows_from_the_cap() -> None:
    """Cookies of the site that are not flows come first in the header, as they often do."""
    browser = Browser()
    browser.cookies.update(csrftoken="c" * 32, sessionid="s" * 32)
    for _ in range(10):
        start(browser)
    assert len(browser.cookies) == 2 + flows.POOL_SIZES["site"]
    assert browser.cookies["csrftoken"] == "c" * 32  # never touched
    assert browser.cookies["sessionid"] == "s" * 32


def test_l1_a_flow_leaves_the_pool_at_the_very_second_it_expires() -> None:
    """It can no longer be completed then (consume), so it holds no place either."""
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        browser, _ = start()
        [expired] = browser.cookies
        clock.shift(timedelta(days=7))
        start(browser)
        assert expired not in browser.cookies
        assert len(browser.cookies) == 1


def test_l1_a_flow_one_second_from_expiry_keeps_its_place() -> None:
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        browser, params = start()
        [pending] = browser.cookies
        clock.shift(timedelta(days=7) - timedelta(seconds=1))
        start(browser)
        assert pending in browser.cookies
        assert consume_flow(browser, params["state"]).purpose == Purpose.SIGN_IN


def test_damaged_cookies_are_cleared_when_a_flow_starts() -> None:
    browser = Browser()
    browser.cookies[PREFIX + "0" * 16] = "<script>"
    start(browser)
    assert PREFIX + "0" * 16 not in browser.cookies
    assert len(browser.cookies) == 1


def test_step_up_records_initiating_sub_and_scopes() -> None:
    sub = uuid.uuid4()
    browser, params = start(
        purpose=Purpose.ATTRIBUTES, scopes=["openid", "scotaccount.address"], initiating_sub=sub
    )
    [flow] = browser.flows
    assert flow.initiating_sub == sub
    assert flow.scopes == ("openid", "scotaccount.address")
    assert params["scope"] == "openid scotaccount.address"
    assert dataclasses.replace(flow) == flows.unseal(flows.seal(flow))


def test_the_logout_state_is_kept_hashed_and_consumed_once() -> None:
    from django.contrib.sessions.backends.cache import SessionStore

    from scotaccount_django._internal.flows import LOGOUT_STATE_HASH, consume_logout

    request = RequestFactory().get("/scotaccount/logout/")
    session = request.session = SessionStore()
    url = flows.end_session_url(request, "an.id.token")
    state = parse_qs(urlsplit(url).query)["state"][0]
    assert state not in session.values()
    assert session[LOGOUT_STATE_HASH] == hash_secret(state)
    assert not consume_logout(session, "forged")
    assert consume_logout(session, state)
    assert not consume_logout(session, state)
