"""The journal records every request with its decoded assertion, PKCE values and rules."""

from __future__ import annotations

import requests

from testing.tests.support import (
    ALL_SCOPES,
    CLIENT_ID,
    TIMEOUT,
    Flow,
    attributes_request,
    fake_fixture,
    make_fake,
    tokens_for,
)

fake = fake_fixture()


def test_a_full_flow_is_journaled(fake):
    flow = Flow(scope=ALL_SCOPES)
    tokens = tokens_for(fake, flow)
    attributes_request(fake, tokens["access_token"])
    assert [entry.endpoint for entry in fake.journal] == [
        "authorize",
        "sign_in",
        "consent_page",
        "consent",
        "token",
        "attributes",
    ]
    authorize = fake.journal.last("authorize")
    assert authorize.params["state"] == flow.state
    assert authorize.pkce == {"code_challenge": flow.challenge, "code_challenge_method": "S256"}
    assert "authorize.pkce" in authorize.passed_rules

    token = fake.journal.last("token")
    assert token.status == 200
    assert token.pkce["code_verifier"] == flow.verifier
    assert token.pkce["computed_challenge"] == flow.challenge
    assert token.client_assertion["claims"]["aud"] == fake.token_endpoint
    assert token.client_assertion["claims"]["iss"] == CLIENT_ID
    assert token.client_assertion["header"]["alg"] == "RS256"
    assert token.issued["sub"] == fake.personas["morag"].sub
    assert token.issued["nonce"] == flow.nonce
    assert token.issued["sid"]
    assert not token.failed_rules
    assert {"assertion.signature", "assertion.jti_unused", "code.pkce"} <= set(token.passed_rules)

    attributes = fake.journal.last("attributes")
    assert attributes.client_assertion["claims"]["aud"] == fake.attributes_url
    assert attributes.headers["authorization"].startswith("Bearer ")
    assert attributes.outcome == "claimsToken issued"


def test_refusals_name_the_failing_rule(fake):
    requests.get(fake.authorization_endpoint, params={"client_id": "nobody"}, timeout=TIMEOUT)
    entry = fake.journal.last()
    assert entry.status == 400
    assert entry.failed_rules == ["authorize.client_id"]
    assert entry.rules[-1].detail == "'nobody'"


def test_two_instances_are_isolated(fake):
    with make_fake() as other:
        other.scenarios.add("jwks_http_500", times=None)
        other.clock.advance(3600)
        assert requests.get(fake.jwks_url, timeout=TIMEOUT).status_code == 200
        assert requests.get(other.jwks_url, timeout=TIMEOUT).status_code == 500
        assert fake.issuer != other.issuer
        assert abs(fake.clock.now() - other.clock.now()) >= 3599
        assert len(fake.journal) == 1
        assert len(other.journal) == 1
        assert fake.signing_keys.kids != other.signing_keys.kids
        # A code from one instance means nothing to the other.
        flow = Flow()
        tokens_for(fake, flow)
        assert not other.journal.for_endpoint("token")


def test_clear(fake):
    requests.get(fake.discovery_url, timeout=TIMEOUT)
    fake.journal.clear()
    assert len(fake.journal) == 0
