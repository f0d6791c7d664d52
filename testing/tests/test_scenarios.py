"""Every named fault is genuinely produced, fires as many times as asked, and no more."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from scotaccount_django_testing import FAULTS
from scotaccount_django_testing.fake.scenarios import (
    AUTHORIZE_ERRORS,
    TRANSPORT_ENDPOINTS,
    TRANSPORT_KINDS,
    TRANSPORT_STATUSES,
)
from testing.tests.support import (
    ALL_SCOPES,
    CLIENT_ID,
    REDIRECT_URI,
    TIMEOUT,
    Flow,
    attributes_request,
    decode_unverified,
    fake_fixture,
    query,
    tokens_for,
)

fake = fake_fixture(timeout_delay=0.5)


def test_unknown_fault_names_are_refused(fake):
    with pytest.raises(ValueError, match="Unknown fault"):
        fake.scenarios.add("token_http_418")
    with pytest.raises(ValueError, match="times"):
        fake.scenarios.add("jwks_http_500", times=0)
    assert fake.scenarios.available() == sorted(FAULTS)


def test_times_once_n_and_always(fake):
    def status():
        return requests.get(fake.jwks_url, timeout=TIMEOUT).status_code

    fake.scenarios.add("jwks_http_503")
    assert [status(), status()] == [503, 200]
    fake.scenarios.add("jwks_http_500", times=2)
    assert [status(), status(), status()] == [500, 500, 200]
    fake.scenarios.add("jwks_http_502", times=None)
    assert [status(), status(), status()] == [502, 502, 502]
    assert fake.scenarios.active() == {"jwks_http_502": None}
    fake.scenarios.clear()
    assert status() == 200


@pytest.mark.parametrize("name", list(AUTHORIZE_ERRORS))
def test_authorize_errors(fake, name):
    flow = Flow()
    fake.scenarios.add(name)
    response = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    params = query(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT_URI)
    assert (params["error"], params["error_description"]) == AUTHORIZE_ERRORS[name]
    assert params["state"] == flow.state
    assert fake.journal.last("authorize").fault == name
    again = requests.get(flow.url(fake), allow_redirects=False, timeout=TIMEOUT)
    assert again.status_code == 200


def call(fake, endpoint, timeout=TIMEOUT):
    urls = {
        "discovery": fake.discovery_url,
        "jwks": fake.jwks_url,
        "attributes_jwks": fake.attributes_jwks_url,
        "attributes": fake.attributes_url,
    }
    if endpoint == "token":
        return requests.post(
            fake.token_endpoint,
            data={"code": "the-code", "client_assertion": "the-assertion"},
            allow_redirects=False,
            timeout=timeout,
        )
    return requests.get(
        urls[endpoint],
        headers={"DIS-Client-Assertion": "the-assertion"},
        allow_redirects=False,
        timeout=timeout,
    )


@pytest.mark.parametrize("endpoint", TRANSPORT_ENDPOINTS)
@pytest.mark.parametrize("status", list(TRANSPORT_STATUSES))
def test_transport_statuses(fake, endpoint, status):
    fake.scenarios.add(f"{endpoint}_http_{status}")
    response = call(fake, endpoint)
    assert response.status_code == status
    assert response.json()["error"] == TRANSPORT_STATUSES[status][0]


@pytest.mark.parametrize("endpoint", TRANSPORT_ENDPOINTS)
@pytest.mark.parametrize("kind", list(TRANSPORT_KINDS))
def test_transport_kinds(fake, endpoint, kind):
    fake.scenarios.add(f"{endpoint}_{kind}")
    if kind == "timeout":
        with pytest.raises(requests.exceptions.ReadTimeout):
            call(fake, endpoint, timeout=(2, 0.1))
    elif kind == "connection_closed":
        with pytest.raises(requests.exceptions.ConnectionError):
            call(fake, endpoint)
    elif kind == "truncated_body":
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            call(fake, endpoint)
    elif kind == "trickle":
        with pytest.raises(requests.exceptions.ConnectionError, match="Read timed out"):
            call(fake, endpoint, timeout=(2, 0.1))
    else:
        response = call(fake, endpoint)
        if kind == "malformed_json":
            assert response.status_code == 200
            with pytest.raises(requests.exceptions.JSONDecodeError):
                response.json()
        elif kind == "html_body":
            assert response.headers["Content-Type"].startswith("text/html")
            assert response.text.startswith("<!DOCTYPE html>")
        else:
            assert response.status_code == 307
            location = urlsplit(response.headers["Location"])
            assert location.netloc != urlsplit(response.url).netloc
            assert location.hostname == "localhost"
            followed = requests.post(
                response.headers["Location"],
                data={"code": "the-code"},
                headers={"DIS-Client-Assertion": "the-assertion"},
                timeout=TIMEOUT,
            )
            assert followed.json() == {"captured": True}
            leaked = fake.journal.last("captured")
            assert "the-assertion" in (
                leaked.headers.get("dis-client-assertion"),
                leaked.params.get("code") and "the-assertion",
            )
    assert fake.journal.last(endpoint).fault == f"{endpoint}_{kind}"


def issue(fake, *faults, scope="openid"):
    for name in faults:
        fake.scenarios.add(name)
    flow = Flow(scope=scope)
    return flow, tokens_for(fake, flow)


def public_pem(fake):
    return fake.signing_keys.active.public_pem()


ID_TOKEN_CHECKS = {
    "id_token_wrong_iss": lambda fake, flow, h, c: c["iss"] == fake.issuer + "/",
    "id_token_wrong_aud": lambda fake, flow, h, c: c["aud"] == "another-client",
    "id_token_aud_extra": lambda fake, flow, h, c: (
        c["aud"] == [CLIENT_ID, "another-client"] and "azp" not in c
    ),
    "id_token_expired": lambda fake, flow, h, c: c["exp"] < fake.clock.now(),
    "id_token_missing_exp": lambda fake, flow, h, c: "exp" not in c,
    "id_token_iat_future": lambda fake, flow, h, c: c["iat"] > fake.clock.now() + 60,
    "id_token_wrong_nonce": lambda fake, flow, h, c: c["nonce"] not in (None, flow.nonce),
    "id_token_missing_nonce": lambda fake, flow, h, c: "nonce" not in c,
    "id_token_missing_sub": lambda fake, flow, h, c: "sub" not in c,
    "id_token_sub_not_uuid": lambda fake, flow, h, c: "@" in c["sub"],
    "id_token_unknown_kid": lambda fake, flow, h, c: h["kid"] not in fake.signing_keys.kids,
    "id_token_no_kid_several_keys": lambda fake, flow, h, c: (
        "kid" not in h and len(fake.signing_keys.kids) >= 2
    ),
    "id_token_is_access_token": lambda fake, flow, h, c: h["typ"] == "at+jwt" and "aud" not in c,
    "id_token_alg_none": lambda fake, flow, h, c: h["alg"] == "none",
    "id_token_hs256_public_key": lambda fake, flow, h, c: h["alg"] == "HS256",
    "id_token_bad_signature": lambda fake, flow, h, c: True,
    "id_token_sub_upper_case": lambda fake, flow, h, c: (
        c["sub"] == c["sub"].upper() != c["sub"].lower()
    ),
    "id_token_exp_string": lambda fake, flow, h, c: isinstance(c["exp"], str),
    "id_token_iat_string": lambda fake, flow, h, c: isinstance(c["iat"], str),
    "id_token_nbf_future": lambda fake, flow, h, c: c["nbf"] > fake.clock.now() + 60,
    "id_token_aud_list": lambda fake, flow, h, c: c["aud"] == [CLIENT_ID],
}


def test_every_id_token_fault_is_checked():
    assert set(ID_TOKEN_CHECKS) == {n for n, spec in FAULTS.items() if spec.target == "id_token"}


@pytest.mark.parametrize("name", list(ID_TOKEN_CHECKS))
def test_id_token_faults(fake, name):
    flow, tokens = issue(fake, name)
    id_token = tokens["id_token"]
    header, claims = decode_unverified(id_token)
    assert ID_TOKEN_CHECKS[name](fake, flow, header, claims)
    assert fake.journal.last("token").fault == name
    jwks = jwt.PyJWKSet.from_dict(requests.get(fake.jwks_url, timeout=TIMEOUT).json())
    verified = False
    for key in jwks.keys:
        try:
            jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256"],
                audience=CLIENT_ID,
                issuer=fake.issuer,
                options={"require": ["exp", "iat", "sub", "nonce"]},
            )
            verified = True
        except jwt.PyJWTError:
            continue
    # PyJWT alone catches the rest; these need the relying party's own checks.
    needs_rp_checks = {
        "id_token_aud_extra",
        "id_token_iat_future",
        "id_token_no_kid_several_keys",  # this loop tries every key; an RP must not
        "id_token_wrong_nonce",
        "id_token_sub_not_uuid",
        "id_token_sub_upper_case",
        "id_token_exp_string",  # PyJWT converts with int()
        "id_token_iat_string",
        "id_token_aud_list",  # valid: the control case for D8
    }
    if name not in needs_rp_checks:
        assert not verified, "a careful relying party must refuse this token"
    # The next flow is clean again.
    flow, tokens = issue(fake)
    assert fake.journal.last("token").fault is None


def test_bad_signature_is_a_real_token_with_altered_bytes(fake):
    fake.scenarios.add("id_token_bad_signature")
    _, tokens = issue(fake)
    signature = tokens["id_token"].split(".")[2]
    assert jwt.get_unverified_header(tokens["id_token"])["kid"] == fake.signing_keys.active.kid
    key = fake.signing_keys.active.private_key.public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens["id_token"], key, algorithms=["RS256"], options={"verify_aud": False})
    assert signature


def test_hs256_is_keyed_with_the_public_key_pem(fake):
    _, tokens = issue(fake, "id_token_hs256_public_key")
    head, payload, signature = tokens["id_token"].split(".")
    expected = hmac.new(public_pem(fake), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected


def test_alg_none_has_an_empty_signature(fake):
    _, tokens = issue(fake, "id_token_alg_none")
    assert tokens["id_token"].endswith(".")


@pytest.mark.parametrize("field", ["id_token", "access_token"])
def test_token_response_missing_fields(fake, field):
    _, tokens = issue(fake, f"token_missing_{field}")
    assert field not in tokens


def test_key_rotation_mid_flow(fake):
    before = [k["kid"] for k in requests.get(fake.jwks_url, timeout=TIMEOUT).json()["keys"]]
    _, tokens = issue(fake, "key_rotation_mid_flow")
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    assert kid not in before
    after = [k["kid"] for k in requests.get(fake.jwks_url, timeout=TIMEOUT).json()["keys"]]
    assert after[0] == kid
    assert set(before) < set(after)


def claims_token_with(fake, *faults):
    _, tokens = issue(fake, scope=ALL_SCOPES)
    for name in faults:
        fake.scenarios.add(name)
    response = attributes_request(fake, tokens["access_token"])
    return tokens, response


CLAIMS_CHECKS = {
    "claims_wrong_sub": lambda fake, t, h, c: (
        c["sub"] != decode_unverified(t["id_token"])[1]["sub"]
    ),
    "claims_wrong_iss": lambda fake, t, h, c: c["iss"] == fake.issuer,
    "claims_unsigned": lambda fake, t, h, c: h["alg"] == "none",
    "claims_bad_signature": lambda fake, t, h, c: h["kid"] == fake.attributes_keys.active.kid,
    "claims_hs256_public_key": lambda fake, t, h, c: h["alg"] == "HS256",
    "claims_unknown_kid": lambda fake, t, h, c: h["kid"] not in fake.attributes_keys.kids,
    "claims_signed_by_sign_in_key": lambda fake, t, h, c: h["kid"] == fake.signing_keys.active.kid,
    "claims_empty_list": lambda fake, t, h, c: c["verified_claims"] == [],
    "claims_verification_failed": lambda fake, t, h, c: (
        all(
            e["verification"]["outcome"] == "VERIFICATION_FAILED" and "claims" not in e
            for e in c["verified_claims"]
        )
        and c["verified_claims"]
    ),
    "claims_sub_upper_case": lambda fake, t, h, c: c["sub"] == c["sub"].upper(),
    "claims_iat_string": lambda fake, t, h, c: isinstance(c["iat"], str),
    "claims_identity_low": lambda fake, t, h, c: any(
        e["verification"].get("confidence_level") == "low" for e in c["verified_claims"]
    ),
    "claims_address_self_certified": lambda fake, t, h, c: any(
        e["verification"].get("validation_method") == "self_certified"
        for e in c["verified_claims"]
    ),
    "claims_old": lambda fake, t, h, c: (
        c["iat"] < fake.clock.now() - 365 * 24 * 3600 and "exp" not in c
    ),
    "claims_expired": lambda fake, t, h, c: c["exp"] < fake.clock.now(),
    "attributes_key_rotation_mid_flow": lambda fake, t, h, c: (
        h["kid"] == fake.attributes_keys.kids[0] and len(fake.attributes_keys.kids) == 2
    ),
}


def test_every_claims_fault_is_checked():
    assert set(CLAIMS_CHECKS) == {n for n, s in FAULTS.items() if s.target == "claims_token"}


@pytest.mark.parametrize("name", list(CLAIMS_CHECKS))
def test_claims_token_faults(fake, name):
    tokens, response = claims_token_with(fake, name)
    assert response.status_code == 200
    header, claims = decode_unverified(response.json()["claimsToken"])
    assert CLAIMS_CHECKS[name](fake, tokens, header, claims)
    assert fake.journal.last("attributes").fault == name


def test_every_fault_has_a_test_named_after_it():
    """Each name in FAULTS is a parameter of one of the tests above (its id names it)."""
    tested = (
        set(AUTHORIZE_ERRORS)
        | {f"{e}_http_{s}" for e in TRANSPORT_ENDPOINTS for s in TRANSPORT_STATUSES}
        | {f"{e}_{k}" for e in TRANSPORT_ENDPOINTS for k in TRANSPORT_KINDS}
        | set(ID_TOKEN_CHECKS)
        | set(CLAIMS_CHECKS)
        | {"token_missing_id_token", "token_missing_access_token", "key_rotation_mid_flow"}
    )
    assert tested == set(FAULTS)
