"""Every /authorize rule refuses the bad request with ScotAccount's documented error."""

from __future__ import annotations

import pytest
import requests

from testing.tests.support import (
    REDIRECT_URI,
    TIMEOUT,
    Flow,
    fake_fixture,
    make_fake,
    query,
    token_request,
)

fake = fake_fixture()


def authorize(fake, **overrides):
    flow = Flow()
    response = requests.get(
        fake.authorization_endpoint,
        params=flow.params(**overrides),
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    return flow, response


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"response_type": None}, "invalid_request", "Missing response_type parameter"),
        ({"response_type": "token"}, "unsupported_response_type", "Unsupported response type"),
        ({"scope": "scotaccount.email"}, "invalid_scope", "missing scope openid"),
        ({"scope": "openid profile"}, "invalid_scope", "Invalid scope: profile"),
        ({"code_challenge": None}, "invalid_request", "Required PKCE method"),
        ({"code_challenge_method": None}, "invalid_request", "Required PKCE method"),
        ({"code_challenge_method": "plain"}, "invalid_request", "Required PKCE method"),
        ({"code_challenge": "too-short"}, "invalid_request", "Required PKCE method"),
        ({"nonce": None}, "invalid_request", "Missing nonce parameter"),
        ({"claims": "{not json"}, "invalid_request", "Invalid claims parameter: Invalid JSON"),
    ],
)
def test_rule_errors_go_back_to_the_redirect_uri(fake, overrides, error, description):
    flow, response = authorize(fake, **overrides)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    params = query(location)
    assert params["error"] == error
    assert description in params["error_description"]
    assert params["state"] == flow.state
    assert "code" not in params


def test_missing_state_is_refused_without_state(fake):
    _, response = authorize(fake, state=None)
    params = query(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "Invalid Request: Missing state parameter"
    assert "state" not in params


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"client_id": None},
        {"redirect_uri": "http://evil.example/callback/"},
        {"redirect_uri": REDIRECT_URI + "extra"},
        {"redirect_uri": REDIRECT_URI.rstrip("/")},
        {"redirect_uri": None},
    ],
)
def test_unregistered_client_or_redirect_uri_is_a_400_page_not_a_redirect(fake, overrides):
    _, response = authorize(fake, **overrides)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert 'data-testid="fake-banner"' in response.text
    assert 'data-testid="error"' in response.text


def test_valid_request_shows_the_sign_in_page(fake):
    _, response = authorize(fake)
    assert response.status_code == 200
    assert 'data-testid="sign-in-form"' in response.text
    for persona_id in fake.personas:
        assert f'data-testid="persona-{persona_id}"' in response.text
    assert "FAKE ScotAccount" in response.text
    assert "<script" not in response.text


def test_forms_can_be_posted_over_plain_http(fake):
    flow = Flow(scope="openid scotaccount.email")
    browser = requests.Session()
    page = browser.get(flow.url(fake), timeout=TIMEOUT).text
    request_id = page.split('name="request_id" value="')[1].split('"')[0]
    consent = browser.post(
        f"{fake.issuer}/authorize/sign-in",
        data={"request_id": request_id, "persona": "email-only"},
        timeout=TIMEOUT,
    )
    assert 'data-testid="release-scotaccount.email"' in consent.text
    assert 'data-testid="consent-cancel"' in consent.text
    done = browser.post(
        f"{fake.issuer}/authorize/consent",
        data={"request_id": request_id, "release": "scotaccount.email", "action": "allow"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert done.status_code == 302
    assert query(done.headers["Location"])["state"] == flow.state
    again = browser.post(
        f"{fake.issuer}/authorize/consent",
        data={"request_id": request_id, "action": "allow"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert again.status_code == 400


def test_lax_mode_skips_pkce_client_id_and_nonce():
    with make_fake(mode="lax", auto_approve="morag") as fake:
        flow, response = authorize(
            fake,
            client_id="anything",
            code_challenge=None,
            code_challenge_method=None,
            nonce=None,
        )
        assert response.status_code == 302
        code = query(response.headers["Location"])["code"]
        tokens = token_request(fake, code, flow, code_verifier=None)
        assert tokens.status_code == 200, tokens.text
        import jwt

        id_token = tokens.json()["id_token"]
        assert jwt.get_unverified_header(id_token)["alg"] == "RS256"
        assert "nonce" not in jwt.decode(id_token, options={"verify_signature": False})
        assert "authorize.pkce" in fake.journal.last("authorize").passed_rules


def test_lax_mode_still_requires_a_registered_redirect_uri():
    with make_fake(mode="lax") as fake:
        _, response = authorize(fake, redirect_uri="http://evil.example/")
        assert response.status_code == 400
