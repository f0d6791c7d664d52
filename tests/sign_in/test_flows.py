"""The flow store: PKCE, fresh secrets, single use, expiry, browser binding, tabs."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import RequestFactory
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django._internal import flows
from scotaccount_django._internal.flows import hash_secret
from scotaccount_django._internal.provider import ProviderMetadata
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import BrowserMismatch, FlowExpired, UnknownFlow
from scotaccount_django.models import AuthorizationFlow

pytestmark = pytest.mark.django_db

METADATA = ProviderMetadata(
    issuer="https://authz.example",
    authorization_endpoint="https://authz.example/authorize",
    token_endpoint="https://authz.example/token",
    jwks_uri="https://authz.example/jwks.json",
    end_session_endpoint=None,
)
REDIRECT_URI = "https://council.example/scotaccount/callback/"
#: On https the flow cookie carries the __Host- prefix (SECURITY L2).
COOKIE = "__Host-scotaccount_flow"


@pytest.fixture(autouse=True)
def provider(monkeypatch, settings) -> None:
    monkeypatch.setattr(flows, "get_metadata", lambda: METADATA)
    settings.SCOTACCOUNT_REDIRECT_URI = REDIRECT_URI


class Started:
    def __init__(self, response) -> None:
        self.response = response
        self.browser_cookie = response.cookies[COOKIE].value


def start(cookie: str | None = None, **kwargs):
    """Start a flow as the login or step-up view does; (what it set, its authorize query)."""
    request = RequestFactory().get("/scotaccount/login/")
    if cookie:
        request.COOKIES[COOKIE] = cookie
    response = flows.start_authorization(
        request,
        purpose=kwargs.pop("purpose", AuthorizationFlow.Purpose.SIGN_IN),
        scopes=kwargs.pop("scopes", ["openid"]),
        next_url=kwargs.pop("next_url", ""),
        **kwargs,
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    return Started(response), params


def consume_flow(request, state):
    return flows.consume(request, state).flow


def callback_request(cookie: str | None):
    request = RequestFactory().get("/scotaccount/callback/")
    if cookie is not None:
        request.COOKIES[COOKIE] = cookie
    return request


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
    started, _ = start()
    assert started.response["Cache-Control"] == "no-store"


def test_a8_secrets_are_stored_hashed_and_verifier_matches_challenge() -> None:
    _, params = start()
    flow = AuthorizationFlow.objects.get()
    assert flow.state_hash == hash_secret(params["state"])
    assert flow.nonce_hash == hash_secret(params["nonce"])
    assert params["state"] not in {flow.state_hash, flow.nonce_hash, flow.code_verifier}
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", flow.code_verifier)
    digest = hashlib.sha256(flow.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_a3_a4_every_flow_gets_fresh_state_nonce_and_verifier() -> None:
    firsts = [start()[1] for _ in range(5)]
    assert len({p["state"] for p in firsts}) == 5
    assert len({p["nonce"] for p in firsts}) == 5
    assert len({p["code_challenge"] for p in firsts}) == 5


def test_flow_is_consumed_exactly_once() -> None:
    started, params = start()
    flow = consume_flow(callback_request(started.browser_cookie), params["state"])
    assert flow.redirect_uri == REDIRECT_URI
    with pytest.raises(UnknownFlow):
        consume_flow(callback_request(started.browser_cookie), params["state"])


def test_b2_missing_or_unknown_state_is_refused() -> None:
    started, _ = start()
    with pytest.raises(UnknownFlow):
        consume_flow(callback_request(started.browser_cookie), None)
    with pytest.raises(UnknownFlow):
        consume_flow(callback_request(started.browser_cookie), "forged-state")
    assert AuthorizationFlow.objects.count() == 1


def test_another_browser_cannot_complete_the_flow_and_it_is_spent() -> None:
    started, params = start()
    with pytest.raises(BrowserMismatch):
        consume_flow(callback_request("x" * 43), params["state"])
    with pytest.raises(BrowserMismatch):
        consume_flow(callback_request(None), start()[1]["state"])
    # The attacker's injected state is gone too: no second attempt.
    with pytest.raises(UnknownFlow):
        consume_flow(callback_request(started.browser_cookie), params["state"])


def test_b5_flow_one_minute_short_of_seven_days_succeeds() -> None:
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        started, params = start()
        clock.shift(timedelta(days=7) - timedelta(minutes=1))
        consume_flow(callback_request(started.browser_cookie), params["state"])


def test_b5_flow_one_minute_past_seven_days_fails_and_is_purged() -> None:
    with time_machine.travel("2026-01-01T12:00:00+00:00", tick=False) as clock:
        started, params = start()
        clock.shift(timedelta(days=7) + timedelta(minutes=1))
        with pytest.raises(FlowExpired):
            consume_flow(callback_request(started.browser_cookie), params["state"])
    assert not AuthorizationFlow.objects.exists()


def test_k2_two_tabs_share_the_browser_cookie_and_both_complete() -> None:
    first, first_params = start(next_url="/one/")
    second, second_params = start(cookie=first.browser_cookie, next_url="/two/")
    # Each flow has its own binding; the cookie carries both (several tabs).
    assert second.browser_cookie.startswith(first.browser_cookie + ".")
    cookie = second.browser_cookie
    assert consume_flow(callback_request(cookie), second_params["state"]).next_url == "/two/"
    assert consume_flow(callback_request(cookie), first_params["state"]).next_url == "/one/"


def test_l2_a_planted_binding_is_never_adopted() -> None:
    planted = "p" * 43  # well-formed, but the server never minted it
    started, params = start(cookie=planted)
    assert planted not in started.browser_cookie.split(".")
    with pytest.raises(BrowserMismatch):  # the planted value alone does not bind the flow
        consume_flow(callback_request(planted), params["state"])


def test_l2_an_unprefixed_cookie_is_ignored_on_https() -> None:
    started, params = start()
    request = RequestFactory().get("/scotaccount/callback/")
    request.COOKIES["scotaccount_flow"] = started.browser_cookie  # another subdomain can set this
    with pytest.raises(BrowserMismatch):
        consume_flow(request, params["state"])


def test_l1_a_browser_keeps_at_most_the_cap_of_pending_flows(monkeypatch) -> None:
    monkeypatch.setattr(conf, "MAX_PENDING_FLOWS_PER_BROWSER", 3)
    cookie = None
    states = []
    for _ in range(10):
        started, params = start(cookie=cookie)
        cookie = started.browser_cookie
        states.append(params["state"])
    assert AuthorizationFlow.objects.count() == 3
    assert len(cookie.split(".")) == 3
    # The newest flows are the ones kept, and still complete.
    assert consume_flow(callback_request(cookie), states[-1]).purpose == "sign_in"
    with pytest.raises(UnknownFlow):
        consume_flow(callback_request(cookie), states[0])


def test_malformed_browser_cookie_is_replaced() -> None:
    started, _ = start(cookie="<script>")
    assert started.browser_cookie != "<script>"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", started.browser_cookie)


def test_step_up_records_initiating_sub_and_scopes() -> None:
    import uuid

    sub = uuid.uuid4()
    _, params = start(
        purpose=AuthorizationFlow.Purpose.ATTRIBUTES,
        scopes=["openid", "scotaccount.address"],
        initiating_sub=sub,
    )
    flow = AuthorizationFlow.objects.get()
    assert flow.initiating_sub == sub
    assert params["scope"] == "openid scotaccount.address"


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
