"""SECURITY M6 (hostile provider input is a clean refusal) and the back channel's M9 (tests
that kill the security mutants of the token checks and the claims parsing).

Tokens here are signed with the fake ScotAccount's real keys, so each is refused for
exactly the reason under test and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from jwt.algorithms import ECAlgorithm

from scotaccount_django._internal import jwtkit, provider
from scotaccount_django._internal.claims import parse_payload
from scotaccount_django._internal.flows import hash_secret
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    InvalidClaimsToken,
    InvalidIDToken,
    ProviderError,
    ProviderUnavailable,
)
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in
from tests.loopback_server import serving

pytestmark = pytest.mark.django_db

NESTED = b"[" * 100_000 + b"]" * 100_000
SUB = str(uuid.UUID("3f0c1b7e-8a52-4d3e-9b61-2c7f0e4a9d15"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_claims(fake, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": fake.issuer,
        "aud": "test-client",
        "sub": SUB,
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def signed(fake, payload: dict | bytes, *, algorithm: str = "RS256", keys=None) -> str:
    """``payload`` (a dict, or raw JSON bytes a JSON library would never write) signed for
    real with the fake's active sign-in key (or ``keys``' active key)."""
    key = (keys or fake.signing_keys).active
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return jwt.PyJWS().encode(raw, key.private_key, algorithm=algorithm, headers={"kid": key.kid})


def verify(token: str):
    return jwtkit.verify_id_token(token, nonce_hash=hash_secret("n"))


# M6: hostile JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [NESTED, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"[]", b'"x"', b"1e400", b"{"]
)
def test_m6_hostile_json_bodies_are_a_provider_error(body) -> None:
    with pytest.raises(ProviderError):
        provider.ProviderResponse(200, body).json_object()


def test_m6_a_deeply_nested_token_response_is_a_clean_502(fake_scotaccount, monkeypatch):
    real = provider.request

    def request(endpoint, method, url, **kwargs):
        if endpoint == "token":
            return provider.ProviderResponse(200, NESTED)
        return real(endpoint, method, url, **kwargs)

    monkeypatch.setattr(provider, "request", request)
    client = Client()
    response = sign_in(client, fake_scotaccount)
    assert response.status_code == 502
    assert not ScotAccountIdentity.objects.exists()


def test_m6_huge_numbers_in_a_token_response_are_refused_or_ignored(monkeypatch, settings):
    body = b'{"id_token":"a.b.c","access_token":"t","token_type":"Bearer","expires_in":1e400}'
    monkeypatch.setattr(provider, "request", lambda *a, **k: provider.ProviderResponse(200, body))
    monkeypatch.setattr(provider, "build_client_assertion", lambda audience: "assertion")
    monkeypatch.setattr(provider, "get_metadata", lambda: metadata_at("https://rp.test"))
    tokens = provider.exchange_code(code="c", code_verifier="v", redirect_uri="https://rp.test/")
    assert tokens.expires_in == provider.DEFAULT_EXPIRES_IN  # inf is not an int lifetime
    digits = b'{"expires_in":' + b"9" * 5000 + b"}"  # past Python's int-from-text limit
    monkeypatch.setattr(
        provider, "request", lambda *a, **k: provider.ProviderResponse(200, digits)
    )
    with pytest.raises(ProviderError):
        provider.exchange_code(code="c", code_verifier="v", redirect_uri="https://rp.test/")


def metadata_at(base: str) -> provider.ProviderMetadata:
    return provider.ProviderMetadata(
        issuer=base,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        jwks_uri=f"{base}/jwks",
        end_session_endpoint=None,
    )


def answering(body: bytes, status: str = "200 OK"):
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    response = head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body
    return lambda request, connection: connection.sendall(response) or True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (NESTED, "200 OK"),
        (b"[]", "200 OK"),
        (b"1e400", "200 OK"),
        (b'{"issuer": 1e400}', "200 OK"),
        (b"not json", "200 OK"),
        (b"{}", "500 Internal Server Error"),
        (b"{}", "302 Found"),
    ],
    ids=["nested", "array", "huge-number", "huge-issuer", "not-json", "http-500", "redirect"],
)
def test_m6_a_failed_discovery_of_any_kind_sets_the_back_off(settings, body, status) -> None:
    with serving(answering(body, status)) as server:
        settings.SCOTACCOUNT_DISCOVERY_URL = f"{server.url}.well-known/openid-configuration"
        with pytest.raises(ProviderError) as first:
            provider.get_metadata()
        assert not isinstance(first.value, ProviderUnavailable) or status.startswith("500")
        with pytest.raises(ProviderUnavailable, match="failed moments ago"):
            provider.get_metadata()
        assert len(server.received) == 1  # the second call never reached the provider


def test_m6_an_unexpected_failure_in_discovery_sets_the_back_off_too(settings, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(provider, "request", broken)
    settings.SCOTACCOUNT_DISCOVERY_URL = "https://elsewhere.test/.well-known/openid-configuration"
    with pytest.raises(RuntimeError):
        provider.get_metadata()
    with pytest.raises(ProviderUnavailable):
        provider.get_metadata()
    assert calls == [1]


# M6: hostile JWTs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claim", [b'"exp": 1e400', b'"iat": 1e400', b'"nbf": 1e400', b'"exp": -1e400']
)
def test_m6_numeric_overflow_in_a_time_claim_is_a_clean_refusal(fake_scotaccount, claim):
    """At PyJWT 2.12.0 (our floor) ``int(1e400)`` raised an uncaught ``OverflowError``."""
    fields = id_claims(fake_scotaccount)
    name = claim.split(b'"')[1].decode()
    fields.pop(name, None)
    payload = json.dumps(fields).encode()[:-1] + b", " + claim + b"}"
    with pytest.raises(InvalidIDToken):
        verify(signed(fake_scotaccount, payload))


@pytest.mark.parametrize("value", [None, [], {}, "soon", True, "1700000000"])
def test_m6_non_numeric_times_are_a_clean_refusal(fake_scotaccount, value):
    token = signed(fake_scotaccount, {**id_claims(fake_scotaccount), "exp": value})
    with pytest.raises(InvalidIDToken):
        verify(token)


@pytest.mark.parametrize("value", [1, None, ["n"], {"n": "n"}, True])
def test_m6_a_nonce_that_is_not_a_string_is_a_clean_refusal(fake_scotaccount, value):
    token = signed(fake_scotaccount, {**id_claims(fake_scotaccount), "nonce": value})
    with pytest.raises(InvalidIDToken, match="nonce"):
        verify(token)


@pytest.mark.parametrize("value", [1, None, ["s"], {"sid": "s"}, True])
def test_m6_a_sid_that_is_not_a_string_is_dropped(fake_scotaccount, value):
    """Only a string can name a ScotAccount session (back-channel logout matches on it)."""
    assert verify(signed(fake_scotaccount, id_claims(fake_scotaccount, sid="s-1"))).sid == "s-1"
    token = signed(fake_scotaccount, {**id_claims(fake_scotaccount), "sid": value})
    assert verify(token).sid is None


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
def test_m6_a_time_claim_as_a_string_of_digits_is_refused(fake_scotaccount, name):
    """PyJWT converts with int(), so "1700000000" would pass; RFC 7519 says a number (L14)."""
    fields = {**id_claims(fake_scotaccount), "nbf": int(time.time()) - 60}
    token = signed(fake_scotaccount, {**fields, name: str(fields[name])})
    assert verify(signed(fake_scotaccount, fields))  # the same claims as numbers verify
    with pytest.raises(InvalidIDToken, match=f"{name} is not a number"):
        verify(token)


@pytest.mark.parametrize("token", [12345, 1.5, ["a.b.c"], {"token": "a.b.c"}])
def test_m6_a_token_that_is_not_a_string_is_a_clean_refusal(fake_scotaccount, token):
    with pytest.raises(InvalidIDToken, match="missing or too large"):
        verify(token)
    with pytest.raises(InvalidClaimsToken, match="missing or too large"):
        jwtkit.verify_claims_token(token, sub=uuid.UUID(SUB))


def test_m6_a_deeply_nested_claim_within_the_size_limit_is_a_clean_refusal(fake_scotaccount):
    payload = json.dumps(id_claims(fake_scotaccount)).encode()[:-1]
    payload += b', "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    token = signed(fake_scotaccount, payload)
    assert len(token) < jwtkit.MAX_TOKEN_LENGTH
    with pytest.raises(InvalidIDToken):
        verify(token)


def test_m6_a_deeply_nested_header_is_a_clean_refusal(fake_scotaccount):
    header = b'{"alg":"RS256","x":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    token = f"{b64(header)}.{b64(json.dumps(id_claims(fake_scotaccount)).encode())}.c2ln"
    with pytest.raises(InvalidIDToken, match="malformed"):
        verify(token)


def test_m6_overflow_in_a_claims_token_is_a_clean_refusal(fake_scotaccount):
    payload = b'{"iss": "%s", "sub": "%s", "iat": 1e400, "verified_claims": []}' % (
        fake_scotaccount.attributes_issuer.encode(),
        SUB.encode(),
    )
    token = signed(fake_scotaccount, payload, keys=fake_scotaccount.attributes_keys)
    with pytest.raises(InvalidClaimsToken):
        jwtkit.verify_claims_token(token, sub=uuid.UUID(SUB))


# M9: the ID token's mutants ------------------------------------------------------------------


def test_m9_azp_is_checked_with_a_single_audience(fake_scotaccount):
    assert verify(signed(fake_scotaccount, id_claims(fake_scotaccount, azp="test-client")))
    token = signed(fake_scotaccount, id_claims(fake_scotaccount, azp="another-client"))
    with pytest.raises(InvalidIDToken, match="azp"):
        verify(token)


def test_m9_iat_is_required(fake_scotaccount):
    assert verify(signed(fake_scotaccount, id_claims(fake_scotaccount)))
    with pytest.raises(InvalidIDToken, match="iat"):
        verify(signed(fake_scotaccount, id_claims(fake_scotaccount, iat=None)))


def test_m9_the_size_guard_refuses_a_well_formed_validly_signed_token(fake_scotaccount):
    padding = "x" * (jwtkit.MAX_TOKEN_LENGTH)
    token = signed(fake_scotaccount, id_claims(fake_scotaccount, padding=padding))
    assert len(token) > jwtkit.MAX_TOKEN_LENGTH
    with pytest.raises(InvalidIDToken, match="too large"):
        verify(token)
    smaller = signed(fake_scotaccount, id_claims(fake_scotaccount, padding=padding[:40_000]))
    assert verify(smaller)  # the same token under the limit passes: only the guard refused


def test_m9_a_token_of_exactly_the_size_cap_is_verified(fake_scotaccount):
    """The cap refuses bigger tokens only: one of exactly ``MAX_TOKEN_LENGTH`` is verified."""
    key = fake_scotaccount.signing_keys.active

    def padded(padding: int, extra: str) -> str:
        raw = json.dumps(id_claims(fake_scotaccount, padding="p" * padding)).encode()
        headers = {"kid": key.kid, "x": extra}
        return jwt.PyJWS().encode(raw, key.private_key, algorithm="RS256", headers=headers)

    start = (jwtkit.MAX_TOKEN_LENGTH - len(padded(0, ""))) * 3 // 4 - 3
    for padding, extra in itertools.product(range(start, start + 6), ("", "x", "xx")):
        token = padded(padding, extra)
        if len(token) == jwtkit.MAX_TOKEN_LENGTH:
            break
    assert len(token) == jwtkit.MAX_TOKEN_LENGTH
    assert verify(token)


def test_m9_a_claims_token_with_an_aud_is_still_read(fake_scotaccount):
    """The claimsToken is bound by ``sub`` and its issuer; an ``aud`` (ours) does not stop it."""
    claims = {
        "iss": fake_scotaccount.attributes_issuer,
        "sub": SUB,
        "aud": "test-client",
        "iat": int(time.time()),
        "verified_claims": [],
    }
    token = signed(fake_scotaccount, claims, keys=fake_scotaccount.attributes_keys)
    assert jwtkit.verify_claims_token(token, sub=UUID)["aud"] == "test-client"


def forged_none(fake, claims: dict) -> str:
    header = {"alg": "none", "kid": fake.signing_keys.active.kid}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def forged_hs256(fake, claims: dict) -> str:
    key = fake.signing_keys.active
    header = {"alg": "HS256", "kid": key.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    digest = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(digest)}"


@pytest.mark.parametrize("forge", [forged_none, forged_hs256], ids=["alg-none", "hs256"])
def test_m9_the_algorithm_allow_list_itself_refuses_d3_and_d4(fake_scotaccount, forge):
    """Refused by the allow-list, before any key is looked up (not only by key fitting)."""
    with pytest.raises(InvalidIDToken, match="is not allowed"):
        verify(forge(fake_scotaccount, id_claims(fake_scotaccount)))


def test_m9_an_id_token_algorithm_outside_the_configured_ones_is_refused(
    fake_scotaccount, monkeypatch
):
    monkeypatch.setattr(conf, "ID_TOKEN_ALGORITHMS", ["ES256"])
    with pytest.raises(InvalidIDToken, match="'RS256' is not allowed"):
        verify(signed(fake_scotaccount, id_claims(fake_scotaccount)))


def test_m9_the_claims_token_has_its_own_fixed_algorithms(fake_scotaccount, monkeypatch):
    """The ID token's algorithms do not govern the claimsToken."""
    claims = {
        "iss": fake_scotaccount.attributes_issuer,
        "sub": SUB,
        "iat": int(time.time()),
        "verified_claims": [],
    }
    keys = fake_scotaccount.attributes_keys
    monkeypatch.setattr(conf, "ID_TOKEN_ALGORITHMS", ["PS256"])
    assert jwtkit.verify_claims_token(signed(fake_scotaccount, claims, keys=keys), sub=UUID)
    for algorithm in ("PS256", "RS384"):
        token = signed(fake_scotaccount, claims, algorithm=algorithm, keys=keys)
        with pytest.raises(InvalidClaimsToken, match="is not allowed"):
            jwtkit.verify_claims_token(token, sub=UUID)


def test_m9_a_claims_token_signed_es256_is_read(fake_scotaccount, settings):
    """ES256 with a P-256 key is one of ScotAccount's two claimsToken algorithms."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "ec", "use": "sig"}
    claims = {"iss": fake_scotaccount.attributes_issuer, "sub": SUB, "iat": int(time.time())}
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "ec"})
    with serving(answering(json.dumps({"keys": [jwk]}).encode())) as server:
        settings.SCOTACCOUNT_ATTRIBUTES_JWKS_URL = f"{server.url}jwks.json"
        assert jwtkit.verify_claims_token(token, sub=UUID)["sub"] == SUB


UUID = uuid.UUID(SUB)


@pytest.mark.parametrize(
    "make",
    [
        lambda fake: signed(fake, id_claims(fake, exp=int(time.time()) - 3600)),
        lambda fake: signed(fake, id_claims(fake, aud="another-client")),
        lambda fake: signed(fake, id_claims(fake))[:-8] + "AAAAAAAA",
        lambda fake: forged_hs256(fake, id_claims(fake)),
        lambda fake: signed(fake, id_claims(fake, nonce="other")),
    ],
    ids=["expired", "wrong-aud", "bad-signature", "hs256", "wrong-nonce"],
)
def test_m9_a_rejected_token_is_never_in_the_error_or_the_log(fake_scotaccount, caplog, make):
    token = make(fake_scotaccount)
    with caplog.at_level(logging.DEBUG), pytest.raises(InvalidIDToken) as caught:
        verify(token)
    told = " ".join([str(caught.value), repr(caught.value.__cause__), caplog.text])
    for part in [token, *token.split(".")]:
        assert not part or part not in told


def test_m9_a_rejected_id_token_at_the_callback_is_not_logged(
    fake_scotaccount, caplog, monkeypatch
):
    seen: list[str] = []
    real = jwtkit.verify_id_token

    def recording(token, **kwargs):  # passes through: only remembers what was verified
        seen.append(token)
        return real(token, **kwargs)

    monkeypatch.setattr(jwtkit, "verify_id_token", recording)
    fake_scotaccount.scenarios.add("id_token_expired")
    with caplog.at_level(logging.DEBUG):
        assert sign_in(Client(), fake_scotaccount).status_code == 502
    assert "[invalid_id_token]" in caplog.text
    (token,) = seen
    for part in [token, *token.split(".")]:
        assert part not in caplog.text


# M9: claims from weaker evidence -------------------------------------------------------------


def identity_entry(confidence_level: str) -> dict:
    return {
        "iss": "https://issuer.test/jwt",
        "sub": SUB,
        "iat": 1742379174,
        "verified_claims": [
            {
                "scope": "scotaccount.gpg45.medium",
                "verification": {
                    "outcome": "VERIFIED_SUCCESSFULLY",
                    "trust_framework": "uk_tfida",
                    "assurance_policy": "GPG_45",
                    "confidence_level": confidence_level,
                    "time": "2025-03-19T10:12:54Z",
                    "verifier": {
                        "organization": "DIS",
                        "txn": "e766b0f2-1873-4199-8f62-e6af182a7f47",
                    },
                },
                "claims": {
                    "given_name": "Morag",
                    "family_name": "Example",
                    "birth_date": "1976-08-24",
                },
            }
        ],
    }


def test_m9_claims_from_evidence_below_the_minimum_are_not_kept(settings):
    (medium,) = parse_payload(identity_entry("medium"), sub=UUID)
    assert medium.is_verified
    assert medium.claims["given_name"] == "Morag"
    (low,) = parse_payload(identity_entry("low"), sub=UUID)
    assert not low.is_verified
    assert low.claims == {}  # unverified personal data is never stored
