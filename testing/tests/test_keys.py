"""Key lifecycle per issuer: add, activate, retire, remove; public members only."""

from __future__ import annotations

import jwt
import pytest
import requests

from scotaccount_django_testing import KeyState
from testing.tests.support import (
    ALL_SCOPES,
    TIMEOUT,
    Flow,
    attributes_request,
    fake_fixture,
    tokens_for,
)

fake = fake_fixture()
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def published(url):
    return requests.get(url, timeout=TIMEOUT).json()["keys"]


def kid_of(token):
    return jwt.get_unverified_header(token)["kid"]


@pytest.mark.parametrize("which", ["signing", "attributes"])
def test_lifecycle(fake, which):
    keys = fake.signing_keys if which == "signing" else fake.attributes_keys
    url = fake.jwks_url if which == "signing" else fake.attributes_jwks_url

    def token():
        tokens = tokens_for(fake, Flow(scope=ALL_SCOPES))
        if which == "signing":
            return tokens["id_token"]
        return attributes_request(fake, tokens["access_token"]).json()["claimsToken"]

    original = keys.active.kid
    added = keys.add()
    assert keys.state_of(added) is KeyState.ADDED
    assert [k["kid"] for k in published(url)] == [original, added]
    assert kid_of(token()) == original

    keys.activate(added)
    assert published(url)[0]["kid"] == added
    assert kid_of(token()) == added
    assert keys.state_of(original) is KeyState.RETIRED
    assert original in [k["kid"] for k in published(url)]

    keys.remove(original)
    assert [k["kid"] for k in published(url)] == [added]

    rotated = keys.rotate()
    assert [k["kid"] for k in published(url)] == [rotated, added]
    keys.retire(added)
    assert keys.state_of(added) is KeyState.RETIRED


def test_active_key_cannot_be_retired_or_removed(fake):
    with pytest.raises(ValueError, match="Activate another key"):
        fake.signing_keys.retire(fake.signing_keys.active.kid)
    with pytest.raises(ValueError, match="Activate another key"):
        fake.signing_keys.remove(fake.signing_keys.active.kid)
    with pytest.raises(KeyError):
        fake.signing_keys.activate("no-such-kid")


def test_jwks_never_contains_private_members(fake):
    fake.signing_keys.rotate()
    fake.attributes_keys.add()
    for url in (fake.jwks_url, fake.attributes_jwks_url):
        for key in published(url):
            assert not PRIVATE_MEMBERS & set(key)
            assert key["kty"] == "RSA"
            assert key["use"] == "sig"
            assert key["alg"] == "RS256"
            assert key["kid"]


def test_the_two_issuers_have_different_keys(fake):
    signing = {k["n"] for k in published(fake.jwks_url)}
    attributes = {k["n"] for k in published(fake.attributes_jwks_url)}
    assert not signing & attributes


def test_every_token_carries_a_kid_and_rs256(fake):
    tokens = tokens_for(fake, Flow(scope=ALL_SCOPES))
    claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
    for token in (tokens["id_token"], tokens["access_token"], claims_token):
        header = jwt.get_unverified_header(token)
        assert header["alg"] == "RS256"
        assert header["kid"]
