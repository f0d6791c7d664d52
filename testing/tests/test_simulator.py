"""The simulator's control API over HTTP: /config (persona, faults, One Login's errors, key
rotation) and /journal, as a relying party in any language would drive them."""

from __future__ import annotations

import jwt
import pytest
import requests

from scotaccount_django_testing.fake.scenarios import ONE_LOGIN_ERRORS
from testing.tests.support import (
    ALL_SCOPES,
    CLIENT_ID,
    EC_KID,
    TIMEOUT,
    Flow,
    attributes_request,
    client_assertion,
    code_from,
    ec_jwks,
    fake_fixture,
    jwks_key,
    query,
    token_request,
    tokens_for,
)

fake = fake_fixture()


def configure(fake, **body):
    response = requests.post(fake.config_url, json=body, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def refused(fake, body):
    response = requests.post(fake.config_url, json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_config"
    return response.json()["error_description"]


def verify_id_token(fake, flow, token):
    """What a relying party checks, with PyJWT: signature and alg from the JWKS, iss, aud,
    exp and iat; then the nonce."""
    claims = jwt.decode(
        token,
        jwks_key(fake.jwks_url, token),
        algorithms=["RS256"],
        issuer=fake.issuer,
        audience=CLIENT_ID,
        options={"require": ["exp", "iat", "sub"]},
    )
    assert claims["nonce"] == flow.nonce, "nonce"
    return claims


def verify_claims_token(fake, token):
    return jwt.decode(
        token,
        jwks_key(fake.attributes_jwks_url, token),
        algorithms=["RS256"],
        issuer=fake.attributes_issuer,
    )


# One Login's configured errors, each with what a relying party then sees. ------------------

ID_TOKEN_ERRORS = {
    "INVALID_ISS": jwt.InvalidIssuerError,
    "INVALID_AUD": jwt.InvalidAudienceError,
    "INVALID_ALG_HEADER": jwt.InvalidAlgorithmError,
    "INVALID_SIGNATURE": jwt.InvalidSignatureError,
    "TOKEN_EXPIRED": jwt.ExpiredSignatureError,
    "TOKEN_NOT_VALID_YET": jwt.ImmatureSignatureError,
    "NONCE_NOT_MATCHING": AssertionError,  # PyJWT leaves the nonce to the relying party
}
CLAIMS_TOKEN_ERRORS = {
    "INVALID_ALG_HEADER": jwt.InvalidAlgorithmError,
    "INVALID_SIGNATURE": jwt.InvalidSignatureError,
    "INVALID_ISS": jwt.InvalidIssuerError,
    "TOKEN_EXPIRED": jwt.ExpiredSignatureError,
}


def test_every_one_login_error_has_a_test():
    covered = {
        "authorize": {"ACCESS_DENIED", "TEMPORARILY_UNAVAILABLE"},
        "id_token": {*ID_TOKEN_ERRORS, "INCORRECT_VOT"},
        "claims_token": {*CLAIMS_TOKEN_ERRORS, "INVALID_AUD", "INCORRECT_SUB"},
    }
    assert {group: set(names) for group, names in ONE_LOGIN_ERRORS.items()} == covered


@pytest.mark.parametrize("name", list(ID_TOKEN_ERRORS))
def test_one_login_id_token_error(fake, name):
    configure(fake, errors={"id_token": [name]})
    flow = Flow()
    with pytest.raises(ID_TOKEN_ERRORS[name]):
        verify_id_token(fake, flow, tokens_for(fake, flow)["id_token"])
    # Armed until POST /config says otherwise, as One Login's are.
    flow = Flow()
    with pytest.raises(ID_TOKEN_ERRORS[name]):
        verify_id_token(fake, flow, tokens_for(fake, flow)["id_token"])
    configure(fake, errors={})
    flow = Flow()
    verify_id_token(fake, flow, tokens_for(fake, flow)["id_token"])


def test_one_login_id_token_error_incorrect_vot_is_a_low_claims_token(fake):
    """ScotAccount states the level of confidence in the claimsToken, not the ID token."""
    configure(fake, errors={"id_token": ["INCORRECT_VOT"]})
    tokens = tokens_for(fake, Flow(scope=ALL_SCOPES))
    claims = verify_claims_token(
        fake, attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
    )
    levels = {entry["verification"].get("confidence_level") for entry in claims["verified_claims"]}
    assert "low" in levels


@pytest.mark.parametrize("name", list(CLAIMS_TOKEN_ERRORS))
def test_one_login_claims_token_error(fake, name):
    configure(fake, errors={"claims_token": [name]})
    tokens = tokens_for(fake, Flow(scope=ALL_SCOPES))
    claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
    with pytest.raises(CLAIMS_TOKEN_ERRORS[name]):
        verify_claims_token(fake, claims_token)


@pytest.mark.parametrize("name", ["INCORRECT_SUB", "INVALID_AUD"])
def test_one_login_claims_token_error_for_another_person(fake, name):
    configure(fake, errors={"claims_token": [name]})
    flow = Flow(scope=ALL_SCOPES)
    tokens = tokens_for(fake, flow)
    id_claims = verify_id_token(fake, flow, tokens["id_token"])
    claims = verify_claims_token(
        fake, attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
    )
    assert claims["sub"] != id_claims["sub"]


@pytest.mark.parametrize(
    ("name", "error"),
    [("ACCESS_DENIED", "access_denied"), ("TEMPORARILY_UNAVAILABLE", "temporarily_unavailable")],
)
def test_one_login_authorize_error(fake, name, error):
    configure(fake, errors={"authorize": [name]}, persona="morag")
    flow = Flow()
    response = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert query(response.headers["Location"])["error"] == error
    assert query(response.headers["Location"])["state"] == flow.state


def test_faults_by_our_own_names_with_a_count(fake):
    configure(fake, faults={"token_http_503": 1})
    flow = Flow()
    code = code_from(fake, flow)
    assert token_request(fake, code, flow).status_code == 503
    assert configure(fake)["faults"] == {}  # fired once, then gone


def test_faults_and_errors_arm_together_and_replace_what_was_armed(fake):
    configure(fake, faults=["jwks_http_500"])
    current = configure(fake, faults=["token_http_502"], errors={"id_token": ["INVALID_ISS"]})
    assert current["faults"] == {"token_http_502": None, "id_token_wrong_iss": None}


# The client's registration (One Login's clientConfiguration). -------------------------------


def test_client_registration_is_replaced_at_run_time(fake):
    other_uri = "https://other.example/callback"
    current = configure(
        fake,
        client={
            "client_id": "other-client",
            "public_keys": [ec_jwks()],
            "redirect_uris": [other_uri],
        },
        persona="morag",
    )
    assert current["client_id"] == "other-client"
    assert current["redirect_uris"] == [other_uri]
    assert current["public_keys"] == [{"kid": EC_KID, "algorithm": "ES256"}]
    flow = Flow()
    location = requests.get(
        flow.url(fake, client_id="other-client", redirect_uri=other_uri),
        allow_redirects=False,
        timeout=TIMEOUT,
    ).headers["Location"]
    assert location.startswith(f"{other_uri}?code=")
    # The old client id, redirect URI and key are no longer registered.
    refused_page = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
    assert refused_page.status_code == 400
    response = token_request(
        fake,
        query(location)["code"],
        flow,
        redirect_uri=other_uri,
        assertion=client_assertion(fake.token_endpoint, iss="other-client", sub="other-client"),
    )
    assert response.status_code == 401
    assert fake.journal.last("token").failed_rules == ["assertion.signature"]


# Persona: interactive pages or non-interactive auto-approval. ---------------------------------


def test_persona_switches_between_interactive_and_auto_approve(fake):
    flow = Flow()
    page = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
    assert page.status_code == 200
    assert 'data-testid="sign-in-form"' in page.text
    assert 'data-testid="fake-banner"' in page.text

    assert configure(fake, persona="seonaid")["interactive"] is False
    response = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    code = query(response.headers["Location"])["code"]
    tokens = token_request(fake, code, flow).json()
    assert verify_id_token(fake, flow, tokens["id_token"])["sub"] == fake.personas["seonaid"].sub

    assert configure(fake, persona=None)["interactive"] is True
    assert requests.get(Flow().url(fake), timeout=TIMEOUT).status_code == 200


def test_mode_and_variants_can_be_switched(fake):
    current = configure(fake, mode="lax", variants=["frontchannel_sid_only"])
    assert current["mode"] == "lax"
    assert fake.mode == "lax"
    assert current["variants"] == ["frontchannel_sid_only"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"persona": "nobody"}, "Unknown persona 'nobody'"),
        ({"faults": ["id_token_wrong_iss", "no_such_fault"]}, "no_such_fault"),
        ({"faults": {"token_http_503": 0}}, "positive whole number"),
        ({"errors": {"id_token": ["INVALID_THING"]}}, "id_token:INVALID_THING"),
        ({"errors": {"userinfo": ["INVALID_ISS"]}}, "userinfo:INVALID_ISS"),
        ({"mode": "loose"}, '"strict" or "lax"'),
        ({"variants": ["no_such_variant"]}, "no_such_variant"),
        ({"signing_keys": "rotate"}, '"signing_keys" is one of'),
        ({"persona": "morag", "colour": "blue"}, "Unknown keys ['colour']"),
        ({"client": {"client_id": ""}}, '"client_id" is a non-empty string'),
        ({"client": {"redirect_uri": []}}, "Unknown \"client\" fields ['redirect_uri']"),
        ({"client": {"redirect_uris": "https://a.example/cb"}}, '"redirect_uris" is a list'),
        ({"client": {"public_keys": ["not a key"]}}, '"public_keys":'),
        ({"client": {"public_keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, '"public_keys":'),
        (["persona"], "JSON object"),
    ],
)
def test_a_bad_config_is_refused_whole_and_says_why(fake, body, says):
    assert says in refused(fake, body)
    current = configure(fake)
    assert (current["persona"], current["faults"], current["mode"]) == (None, {}, "strict")


def test_a_body_that_is_not_json_is_refused(fake):
    response = requests.post(fake.config_url, data=b"persona=morag", timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error_description"] == "Not JSON."


# Staged key rotation (One Login's publish, then use; and removing the old key). ---------------


def kids(url):
    return [key["kid"] for key in requests.get(url, timeout=TIMEOUT).json()["keys"]]


@pytest.mark.parametrize("issuer", ["signing_keys", "attributes_keys"])
def test_staged_key_rotation(fake, issuer):
    url = fake.jwks_url if issuer == "signing_keys" else fake.attributes_jwks_url
    [old] = kids(url)

    def signed_by():
        flow = Flow(scope=ALL_SCOPES)
        tokens = tokens_for(fake, flow)
        if issuer == "signing_keys":
            verify_id_token(fake, flow, tokens["id_token"])
            return jwt.get_unverified_header(tokens["id_token"])["kid"]
        claims_token = attributes_request(fake, tokens["access_token"]).json()["claimsToken"]
        verify_claims_token(fake, claims_token)
        return jwt.get_unverified_header(claims_token)["kid"]

    assert "publish" in refused(fake, {issuer: "use"})  # One Login: publish first
    configure(fake, **{issuer: "publish"})
    published = kids(url)
    [new] = set(published) - {old}
    assert published == [old, new]  # published, not yet used
    assert signed_by() == old

    states = configure(fake, **{issuer: "use"})[issuer]
    assert states == [{"kid": new, "state": "active"}, {"kid": old, "state": "retired"}]
    assert kids(url) == [new, old]  # the newest first; the old one still verifies
    assert signed_by() == new

    configure(fake, **{issuer: "remove_old"})
    assert kids(url) == [new]
    assert signed_by() == new


# The journal. ---------------------------------------------------------------------------------


def test_journal_shows_what_the_relying_party_sent(fake):
    requests.delete(fake.journal_url, timeout=TIMEOUT)
    flow = Flow()
    tokens_for(fake, flow)
    requests.get(fake.config_url, timeout=TIMEOUT)  # control requests are not journaled
    entries = requests.get(fake.journal_url, timeout=TIMEOUT).json()
    assert [entry["endpoint"] for entry in entries] == [
        "authorize",
        "sign_in",
        "consent_page",
        "consent",
        "token",
    ]
    [token] = requests.get(fake.journal_url, params={"endpoint": "token"}, timeout=TIMEOUT).json()
    assert token["params"]["code_verifier"] == flow.verifier
    assert token["params"]["grant_type"] == "authorization_code"
    assert token["client_assertion"]["claims"]["iss"] == CLIENT_ID
    assert token["status"] == 200
    assert all(rule["passed"] for rule in token["rules"])

    assert requests.delete(fake.journal_url, timeout=TIMEOUT).status_code == 204
    assert requests.get(fake.journal_url, timeout=TIMEOUT).json() == []


def test_control_api_lives_on_the_sign_in_origin_only(fake):
    attributes_origin = fake.attributes_url.rsplit("/attributes", 1)[0]
    assert requests.get(f"{attributes_origin}/config", timeout=TIMEOUT).status_code == 404


def test_configure_from_python_is_the_same_as_post_config(fake):
    fake.configure({"errors": {"id_token": ["INVALID_AUD"]}, "persona": "morag"})
    assert fake.scenarios.active() == {"id_token_wrong_aud": None}
    assert fake.auto_approve == "morag"
    with pytest.raises(ValueError, match="Unknown keys"):
        fake.configure({"faults": [], "colour": "blue"})
