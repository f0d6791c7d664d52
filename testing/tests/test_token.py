"""Every /token rule refuses the bad request with the documented status and error."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from testing.tests.support import (
    ASSERTION_TYPE,
    CLIENT_ID,
    TIMEOUT,
    Flow,
    client_assertion,
    code_from,
    fake_fixture,
    make_fake,
    token_request,
)

fake = fake_fixture()


def assert_client_auth_refused(response, fake, rule):
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "access_denied",
        "error_description": "Access_denied: Token not valid",
    }
    assert rule in fake.journal.last("token").failed_rules


@pytest.mark.parametrize(
    ("claims", "rule"),
    [
        ({"iss": "someone-else"}, "assertion.iss"),
        ({"sub": "someone-else"}, "assertion.sub"),
        ({"aud": "wrong"}, "assertion.aud"),
        ({"aud": "https://issuer.example/attributes/values"}, "assertion.aud"),
        ({"exp": None}, "assertion.exp_present"),
        ({"jti": None}, "assertion.jti_present"),
    ],
)
def test_assertion_claims(fake, claims, rule):
    flow = Flow()
    code = code_from(fake, flow)
    assertion = client_assertion(fake.token_endpoint, **claims)
    assert_client_auth_refused(token_request(fake, code, flow, assertion=assertion), fake, rule)


def test_assertion_aud_as_array_is_refused(fake):
    flow = Flow()
    assertion = client_assertion(fake.token_endpoint, aud=[fake.token_endpoint])
    response = token_request(fake, code_from(fake, flow), flow, assertion=assertion)
    assert_client_auth_refused(response, fake, "assertion.aud")


def test_assertion_expired(fake):
    flow = Flow()
    assertion = client_assertion(fake.token_endpoint, now=int(time.time()) - 120)
    response = token_request(fake, code_from(fake, flow), flow, assertion=assertion)
    assert_client_auth_refused(response, fake, "assertion.not_expired")


def test_assertion_lifetime_too_long(fake):
    flow = Flow()
    assertion = client_assertion(fake.token_endpoint, lifetime=60 * 60 * 24 * 180)
    response = token_request(fake, code_from(fake, flow), flow, assertion=assertion)
    assert_client_auth_refused(response, fake, "assertion.lifetime")


def test_assertion_max_lifetime_is_configurable():
    with make_fake(max_assertion_lifetime=30) as fake:
        flow = Flow()
        assertion = client_assertion(fake.token_endpoint, lifetime=60)
        response = token_request(fake, code_from(fake, flow), flow, assertion=assertion)
        assert_client_auth_refused(response, fake, "assertion.lifetime")


def test_assertion_signed_by_an_unregistered_key(fake):
    flow = Flow()
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": fake.token_endpoint,
            "exp": now + 60,
            "jti": "x",
        },
        stranger,
        algorithm="ES256",
    )
    response = token_request(fake, code_from(fake, flow), flow, assertion=assertion)
    assert_client_auth_refused(response, fake, "assertion.signature")


def test_assertion_hs256_is_refused(fake):
    flow = Flow()
    assertion = jwt.encode(
        {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": fake.token_endpoint,
            "exp": int(time.time()) + 60,
            "jti": "y",
        },
        "a-shared-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    response = token_request(fake, code_from(fake, flow), flow, assertion=assertion)
    assert_client_auth_refused(response, fake, "assertion.alg_allowed")


def test_assertion_garbage_and_missing(fake):
    flow = Flow()
    code = code_from(fake, flow)
    response = token_request(fake, code, flow, assertion="not.a.jwt")
    assert_client_auth_refused(response, fake, "assertion.well_formed")
    response = token_request(fake, code, flow, client_assertion=None)
    assert_client_auth_refused(response, fake, "assertion.present")


def test_wrong_assertion_type(fake):
    flow = Flow()
    response = token_request(fake, code_from(fake, flow), flow, client_assertion_type="secret")
    assert_client_auth_refused(response, fake, "token.assertion_type")


def test_jti_replay_is_refused(fake):
    first, second = Flow(), Flow()
    assertion = client_assertion(fake.token_endpoint)
    assert token_request(fake, code_from(fake, first), first, assertion=assertion).ok
    response = token_request(fake, code_from(fake, second), second, assertion=assertion)
    assert_client_auth_refused(response, fake, "assertion.jti_unused")


@pytest.mark.parametrize(
    ("overrides", "status", "error", "rule"),
    [
        ({"grant_type": "refresh_token"}, 400, "unsupported_grant_type", "token.grant_type"),
        ({"code": None}, 400, "invalid_request", "token.code_present"),
        ({"redirect_uri": None}, 400, "invalid_request", "token.redirect_uri_present"),
        ({"code": "unknown-code"}, 400, "invalid_grant", "code.known"),
        ({"redirect_uri": "http://testserver/other/"}, 400, "invalid_grant", "code.redirect_uri"),
        ({"code_verifier": None}, 400, "invalid_grant", "code.verifier_format"),
        ({"code_verifier": "short"}, 400, "invalid_grant", "code.verifier_format"),
        ({"code_verifier": "x" * 129}, 400, "invalid_grant", "code.verifier_format"),
        ({"code_verifier": "y" * 64}, 400, "invalid_grant", "code.pkce"),
    ],
)
def test_request_and_grant_rules(fake, overrides, status, error, rule):
    flow = Flow()
    code = code_from(fake, flow)
    code = overrides.pop("code", code)
    response = token_request(fake, code, flow, **overrides)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert rule in fake.journal.last("token").failed_rules


def test_code_is_single_use_and_reuse_revokes_the_tokens(fake):
    flow = Flow(scope="openid scotaccount.email")
    code = code_from(fake, flow)
    first = token_request(fake, code, flow)
    assert first.status_code == 200
    second = token_request(fake, code, flow)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert "code.unused" in fake.journal.last("token").failed_rules
    from testing.tests.support import attributes_request

    assert attributes_request(fake, first.json()["access_token"]).status_code == 403


def test_code_expires_on_the_fake_clock(fake):
    flow = Flow()
    code = code_from(fake, flow)
    fake.clock.advance(61)
    response = token_request(
        fake, code, flow, assertion=client_assertion(fake.token_endpoint, now=fake.clock.now())
    )
    assert response.status_code == 400
    assert "code.not_expired" in fake.journal.last("token").failed_rules


def test_form_body_only_in_strict_mode(fake):
    flow = Flow()
    code = code_from(fake, flow)
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.params()["redirect_uri"],
        "code_verifier": flow.verifier,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(fake.token_endpoint),
    }
    response = requests.post(fake.token_endpoint, params=params, timeout=TIMEOUT)
    assert response.status_code == 400
    with make_fake(mode="lax") as lax:
        flow = Flow()
        params |= {
            "code": code_from(lax, flow),
            "code_verifier": flow.verifier,
            "client_assertion": client_assertion(lax.token_endpoint),
        }
        assert requests.post(lax.token_endpoint, json=params, timeout=TIMEOUT).status_code == 200


def test_lax_mode_ignores_assertion_contents_but_not_its_signature():
    with make_fake(mode="lax") as fake:
        flow = Flow()
        code = code_from(fake, flow)
        sloppy = client_assertion("anything", iss="x", sub="y", exp=None, jti=None)
        assert token_request(fake, code, flow, assertion=sloppy, code_verifier="nope").ok
        flow = Flow()
        stranger = ec.generate_private_key(ec.SECP256R1())
        forged = jwt.encode({"iss": CLIENT_ID}, stranger, algorithm="ES256")
        response = token_request(fake, code_from(fake, flow), flow, assertion=forged)
        assert response.status_code == 401
