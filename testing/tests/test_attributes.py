"""/attributes/values: Bearer access token plus DIS-Client-Assertion, documented statuses."""

from __future__ import annotations

import requests

from testing.tests.support import (
    ALL_SCOPES,
    TIMEOUT,
    Flow,
    attributes_request,
    client_assertion,
    fake_fixture,
    make_fake,
    tokens_for,
)

fake = fake_fixture()


def access_token(fake, persona="morag"):
    return tokens_for(fake, Flow(scope=ALL_SCOPES), persona)["access_token"]


def failed(fake):
    return fake.journal.last("attributes").failed_rules


def test_missing_bearer_is_401(fake):
    access_token(fake)
    response = attributes_request(fake, None)
    assert response.status_code == 401
    assert response.json()["error"] == "access_denied"
    assert failed(fake) == ["attributes.bearer_present"]


def test_missing_assertion_is_401(fake):
    response = attributes_request(fake, access_token(fake), send_assertion=False)
    assert response.status_code == 401
    assert failed(fake) == ["assertion.present"]


def test_token_not_issued_here_is_403(fake):
    with make_fake() as other:
        foreign = access_token(other)
    response = attributes_request(fake, foreign)
    assert response.status_code == 403
    assert failed(fake) == ["access_token.signature"]


def test_tampered_token_is_403(fake):
    token = access_token(fake)
    head, payload, signature = token.split(".")
    response = attributes_request(fake, f"{head}.{payload}.{signature[::-1]}")
    assert response.status_code == 403


def test_expired_access_token_is_403(fake):
    token = access_token(fake)
    fake.clock.advance(901)
    assertion = client_assertion(fake.attributes_url, now=fake.clock.now())
    response = attributes_request(fake, token, assertion=assertion)
    assert response.status_code == 403
    assert failed(fake) == ["access_token.not_expired"]


def test_assertion_for_the_token_endpoint_is_refused(fake):
    token = access_token(fake)
    response = attributes_request(fake, token, assertion=client_assertion(fake.token_endpoint))
    assert response.status_code == 403
    assert failed(fake) == ["assertion.aud"]


def test_assertion_jti_replayed_from_the_token_endpoint_is_refused(fake):
    token = access_token(fake)
    token_call = fake.journal.last("token").client_assertion
    assertion = client_assertion(fake.attributes_url, jti=token_call["claims"]["jti"])
    response = attributes_request(fake, token, assertion=assertion)
    assert response.status_code == 403
    assert failed(fake) == ["assertion.jti_unused"]


def test_assertion_with_wrong_issuer_is_refused(fake):
    token = access_token(fake)
    response = attributes_request(
        fake, token, assertion=client_assertion(fake.attributes_url, iss="other")
    )
    assert response.status_code == 403


def test_attributes_endpoint_is_on_its_own_origin(fake):
    response = requests.get(
        f"{fake.issuer}/attributes/values", timeout=TIMEOUT, allow_redirects=False
    )
    assert response.status_code == 404


def test_only_consented_scopes_with_data_are_released(fake):
    flow = Flow(scope=ALL_SCOPES)
    token = tokens_for(fake, flow, "no-address")["access_token"]
    from testing.tests.support import verify_claims_token

    claims_token = attributes_request(fake, token).json()["claimsToken"]
    scopes = [e["scope"] for e in verify_claims_token(fake, claims_token)["verified_claims"]]
    assert scopes == ["scotaccount.gpg45.medium", "scotaccount.email"]
