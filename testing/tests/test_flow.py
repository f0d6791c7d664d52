"""The whole flow, driven by hand-built requests: authorize, token, attributes, logout."""

from __future__ import annotations

import uuid

import pytest
import requests

from testing.tests.support import (
    ALL_SCOPES,
    CLIENT_ID,
    LOGOUT_URI,
    REDIRECT_URI,
    TIMEOUT,
    Flow,
    attributes_request,
    client_assertion,
    fake_fixture,
    make_fake,
    query,
    token_request,
    verify_claims_token,
    verify_id_token,
)

fake = fake_fixture()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_full_flow_through_the_forms(fake, algorithm):
    flow = Flow(scope=ALL_SCOPES)
    location = fake.complete_authorization(flow.url(fake), persona="morag")
    assert location.startswith(REDIRECT_URI)
    params = query(location)
    assert params["state"] == flow.state

    response = token_request(
        fake,
        params["code"],
        flow,
        assertion=client_assertion(fake.token_endpoint, algorithm=algorithm),
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert set(tokens["scope"].split()) == set(ALL_SCOPES.split())
    assert tokens["refresh_token"]
    id_claims = verify_id_token(fake, tokens["id_token"], flow.nonce)
    assert id_claims["sub"] == fake.personas["morag"].sub
    assert uuid.UUID(id_claims["sub"])

    response = attributes_request(
        fake,
        tokens["access_token"],
        assertion=client_assertion(fake.attributes_url, algorithm=algorithm),
    )
    assert response.status_code == 200, response.text
    claims = verify_claims_token(fake, response.json()["claimsToken"])
    assert claims["sub"] == id_claims["sub"]
    scopes = [entry["scope"] for entry in claims["verified_claims"]]
    assert sorted(scopes) == sorted(ALL_SCOPES.split()[1:])
    identity = next(e for e in claims["verified_claims"] if e["scope"].endswith("gpg45.medium"))
    assert identity["verification"]["outcome"] == "VERIFIED_SUCCESSFULLY"
    assert identity["claims"]["given_name"] == "Morag"

    logout_state = "bye-123"
    response = requests.get(
        fake.end_session_endpoint,
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_URI,
            "state": logout_state,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOGOUT_URI}?state={logout_state}"


def test_full_flow_with_auto_approve():
    with make_fake(auto_approve="seonaid") as fake:
        flow = Flow(scope="openid scotaccount.gpg45.medium")
        response = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302
        params = query(response.headers["Location"])
        assert params["state"] == flow.state
        tokens = token_request(fake, params["code"], flow).json()
        assert verify_id_token(fake, tokens["id_token"], flow.nonce)["sub"] == (
            fake.personas["seonaid"].sub
        )
        claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
        identity = verify_claims_token(fake, claims_token)["verified_claims"][0]["claims"]
        assert identity["given_name"] == "Seònaid Màiri"
        assert identity["family_name"] == "Nic a' Phearsain-O'Brien"


def test_discovery_describes_both_issuers(fake):
    document = requests.get(fake.discovery_url, timeout=TIMEOUT).json()
    assert document["issuer"] == fake.issuer
    assert not fake.issuer.endswith("/")
    assert document["authorization_endpoint"] == fake.authorization_endpoint
    assert document["token_endpoint"] == fake.token_endpoint
    assert document["jwks_uri"] == fake.jwks_url
    assert document["end_session_endpoint"] == f"{fake.issuer}/authorize/logout"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert document["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["frontchannel_logout_supported"] is True
    assert document["frontchannel_logout_session_supported"] is True
    assert "scotaccount.address" in document["scopes_supported"]
    assert fake.attributes_url.endswith("/attributes/values")
    assert fake.attributes_issuer.endswith("/jwt")
    assert fake.attributes_url.split("/attributes")[0] != fake.issuer


def test_access_token_and_id_token_claims_follow_the_docs(fake):
    flow = Flow(scope="openid scotaccount.email")
    location = fake.complete_authorization(flow.url(fake), persona="email-only")
    tokens = token_request(fake, query(location)["code"], flow).json()
    header = requests.get(fake.jwks_url, timeout=TIMEOUT).json()["keys"][0]
    import jwt

    access = jwt.decode(
        tokens["access_token"],
        jwt.PyJWK(header).key,
        algorithms=["RS256"],
        options={"verify_aud": False},
    )
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"
    assert access["scp"] == ["openid", "scotaccount.email"]
    assert access["cid"] == CLIENT_ID
    assert access["exp"] - access["iat"] == 900
    id_claims = verify_id_token(fake, tokens["id_token"], flow.nonce)
    assert set(id_claims) == {"sub", "aud", "iss", "exp", "iat", "nonce", "jti", "sid"}


def test_consent_subset_releases_only_ticked_scopes(fake):
    flow = Flow(scope=ALL_SCOPES)
    location = fake.complete_authorization(
        flow.url(fake), persona="morag", release=["scotaccount.email"]
    )
    tokens = token_request(fake, query(location)["code"], flow).json()
    assert tokens["scope"] == "openid scotaccount.email"
    claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
    entries = verify_claims_token(fake, claims_token)["verified_claims"]
    assert [entry["scope"] for entry in entries] == ["scotaccount.email"]


def test_consent_cancel_returns_access_denied(fake):
    flow = Flow(scope=ALL_SCOPES)
    location = fake.complete_authorization(flow.url(fake), cancel=True)
    params = query(location)
    assert params["error"] == "access_denied"
    assert params["state"] == flow.state
    assert "code" not in params


def test_nothing_released_is_404(fake):
    flow = Flow(scope="openid scotaccount.address")
    location = fake.complete_authorization(flow.url(fake), persona="no-address")
    tokens = token_request(fake, query(location)["code"], flow).json()
    response = attributes_request(fake, tokens["access_token"])
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_openid_only_releases_nothing(fake):
    flow = Flow()
    tokens = token_request(
        fake, query(fake.complete_authorization(flow.url(fake)))["code"], flow
    ).json()
    assert attributes_request(fake, tokens["access_token"]).status_code == 404


def test_identity_verification_failed_persona(fake):
    flow = Flow(scope="openid scotaccount.gpg45.medium")
    location = fake.complete_authorization(flow.url(fake), persona="idv-failed")
    tokens = token_request(fake, query(location)["code"], flow).json()
    claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
    (entry,) = verify_claims_token(fake, claims_token)["verified_claims"]
    assert entry["verification"]["outcome"] == "VERIFICATION_FAILED"
    assert "claims" not in entry


def test_legacy_layout():
    with make_fake(legacy_claims_layout=True) as fake:
        flow = Flow(scope=ALL_SCOPES)
        tokens = token_request(
            fake, query(fake.complete_authorization(flow.url(fake)))["code"], flow
        ).json()
        claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
        claims = verify_claims_token(fake, claims_token)
        morag = fake.personas["morag"]
        assert isinstance(claims["verified_claims"], dict)
        verification = claims["verified_claims"]["verification"]
        assert verification["outcome"] == f"{morag.sub} VERIFIED SUCCESSFULLY"
        assert verification["assurance_level"] == "GPG45-Medium"
        assert claims["claims"]["uuid"] == morag.sub
        assert claims["claims"]["address"]["uprn"] == "132021690"
        assert claims["claims"]["email"] == morag.email
