"""Relying-party side helpers for the fake's tests: hand-built requests with PyJWT and requests.

Deliberately independent of the app's own client code. No tests live here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm

from scotaccount_django_testing import FakeScotAccount

CLIENT_ID = "test-client"
REDIRECT_URI = "http://testserver/scotaccount/callback/"
LOGOUT_URI = "http://testserver/scotaccount/logged-out/"
EC_KID = "rp-ec-key"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALL_SCOPES = "openid scotaccount.gpg45.medium scotaccount.address scotaccount.email"
TIMEOUT = 5


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_public_pem() -> bytes:
    return (
        rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def ec_jwks() -> dict[str, Any]:
    jwk = json.loads(ECAlgorithm.to_jwk(ec_key().public_key()))
    return {"keys": [{**jwk, "kid": EC_KID}]}


def make_fake(**options: Any) -> FakeScotAccount:
    options.setdefault("client_id", CLIENT_ID)
    options.setdefault("client_keys", [rsa_public_pem(), ec_jwks()])
    options.setdefault("redirect_uris", [REDIRECT_URI])
    options.setdefault("post_logout_redirect_uris", [LOGOUT_URI])
    options.setdefault("timeout_delay", 1.0)
    return FakeScotAccount(**options)


def fake_fixture(**options: Any) -> Callable[[], Iterator[FakeScotAccount]]:
    """A function-scoped fixture yielding a started fake built with ``options``."""

    @pytest.fixture
    def fixture() -> Iterator[FakeScotAccount]:
        with make_fake(**options) as fake:
            yield fake

    return fixture


@dataclass
class Flow:
    """One authorization request's secrets, as a relying party keeps them."""

    scope: str = "openid"
    state: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def params(self, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": self.scope,
            "code_challenge_method": "S256",
            "code_challenge": self.challenge,
            "state": self.state,
            "nonce": self.nonce,
        }
        params.update(overrides)
        return {name: value for name, value in params.items() if value is not None}

    def url(self, fake: FakeScotAccount, **overrides: str | None) -> str:
        return f"{fake.authorization_endpoint}?{urlencode(self.params(**overrides))}"


def query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def client_assertion(
    audience: str,
    *,
    algorithm: str = "RS256",
    lifetime: int = 60,
    now: int | None = None,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A private_key_jwt assertion (RFC 7523) signed by the relying party's key."""
    issued = int(time.time()) if now is None else now
    body: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    key: Any = rsa_key() if algorithm == "RS256" else ec_key()
    header = {"kid": EC_KID} if algorithm == "ES256" else {}
    return jwt.encode(body, key, algorithm=algorithm, headers={**header, **(headers or {})})


def code_from(fake: FakeScotAccount, flow: Flow, persona: str = "morag") -> str:
    location = fake.complete_authorization(flow.url(fake), persona=persona)
    return query(location)["code"]


def token_request(
    fake: FakeScotAccount,
    code: str | None,
    flow: Flow,
    *,
    assertion: str | None = None,
    **overrides: str | None,
) -> requests.Response:
    data: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": flow.verifier,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion or client_assertion(fake.token_endpoint),
    }
    data.update(overrides)
    return requests.post(
        fake.token_endpoint,
        data={name: value for name, value in data.items() if value is not None},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def tokens_for(fake: FakeScotAccount, flow: Flow, persona: str = "morag") -> dict[str, Any]:
    response = token_request(fake, code_from(fake, flow, persona), flow)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def attributes_request(
    fake: FakeScotAccount,
    access_token: str | None,
    *,
    assertion: str | None = None,
    send_assertion: bool = True,
) -> requests.Response:
    headers = {}
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    if send_assertion:
        headers["DIS-Client-Assertion"] = assertion or client_assertion(fake.attributes_url)
    return requests.get(
        fake.attributes_url, headers=headers, allow_redirects=False, timeout=TIMEOUT
    )


def jwks_key(jwks_url: str, token: str) -> Any:
    keys = jwt.PyJWKSet.from_dict(requests.get(jwks_url, timeout=TIMEOUT).json())
    kid = jwt.get_unverified_header(token)["kid"]
    return next(key for key in keys.keys if key.key_id == kid).key


def verify_id_token(fake: FakeScotAccount, id_token: str, nonce: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        id_token,
        jwks_key(fake.jwks_url, id_token),
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=fake.issuer,
        options={"require": ["exp", "iat", "sub", "nonce", "jti", "sid"]},
    )
    assert claims["nonce"] == nonce
    return claims


def verify_claims_token(fake: FakeScotAccount, claims_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        claims_token,
        jwks_key(fake.attributes_jwks_url, claims_token),
        algorithms=["RS256"],
        issuer=fake.attributes_issuer,
        options={"require": ["iat", "sub", "iss"]},
    )
    return claims


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
