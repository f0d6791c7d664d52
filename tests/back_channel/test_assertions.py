"""Client assertions: right claims, one audience, fresh jti, short life, kid, right alg."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scotaccount_django._internal.provider import build_client_assertion, load_signing_key
from scotaccount_django.exceptions import ConfigurationError

TOKEN_URL = "https://authz.integration.scotaccount.service.gov.scot/token"


def decode(assertion: str) -> dict:
    public_key = load_signing_key().private_key.public_key()
    return jwt.decode(assertion, public_key, algorithms=["ES256", "RS256"], audience=TOKEN_URL)


def test_c2_assertion_names_us_and_exactly_one_audience(settings) -> None:
    claims = decode(build_client_assertion(TOKEN_URL))
    assert claims["iss"] == claims["sub"] == settings.SCOTACCOUNT_CLIENT_ID
    assert claims["aud"] == TOKEN_URL  # one string, never a list


def test_c1_assertion_is_short_lived() -> None:
    claims = decode(build_client_assertion(TOKEN_URL))
    assert claims["iat"] <= time.time() + 1
    assert 0 < claims["exp"] - claims["iat"] <= 300


def test_c1_every_assertion_has_a_fresh_jti() -> None:
    jtis = {decode(build_client_assertion(TOKEN_URL))["jti"] for _ in range(20)}
    assert len(jtis) == 20


def test_c1_header_carries_kid_and_the_keys_algorithm(settings) -> None:
    header = jwt.get_unverified_header(build_client_assertion(TOKEN_URL))
    assert header["alg"] == "ES256"
    assert header["kid"] == load_signing_key().kid
    settings.SCOTACCOUNT_PRIVATE_KEY = (
        rsa.generate_private_key(65537, 2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    assert jwt.get_unverified_header(build_client_assertion(TOKEN_URL))["alg"] == "RS256"


def test_no_client_id_is_a_configuration_error(settings) -> None:
    settings.SCOTACCOUNT_CLIENT_ID = None
    with pytest.raises(ConfigurationError):
        build_client_assertion(TOKEN_URL)
