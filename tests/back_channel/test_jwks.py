"""Which keys in a JWKS may verify which token header."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from scotaccount_django._internal.jwtkit import parse_key_set, select_key
from scotaccount_django.exceptions import ProviderError


def rsa_jwk(kid: str, bits: int = 2048, **extra) -> dict:
    key = rsa.generate_private_key(65537, bits).public_key()
    return {**RSAAlgorithm.to_jwk(key, as_dict=True), "kid": kid, **extra}


def ec_jwk(kid: str, curve: ec.EllipticCurve) -> dict:
    key = ec.generate_private_key(curve).public_key()
    return {**ECAlgorithm.to_jwk(key, as_dict=True), "kid": kid}


def test_e1_no_kid_with_exactly_one_key_is_accepted() -> None:
    keys = parse_key_set({"keys": [rsa_jwk("a")]})
    assert select_key(keys, None, "RS256") is not None


def test_e1_no_kid_with_several_keys_is_refused() -> None:
    keys = parse_key_set({"keys": [rsa_jwk("a"), rsa_jwk("b")]})
    assert select_key(keys, None, "RS256") is None
    assert select_key(keys, "b", "RS256").key_id == "b"


def test_e5_encryption_weak_and_broken_keys_are_ignored() -> None:
    keys = parse_key_set(
        {
            "keys": [
                rsa_jwk("enc", use="enc"),
                rsa_jwk("weak", bits=1024),
                ec_jwk("p384", ec.SECP384R1()),
                {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
                "not even an object",
                rsa_jwk("good"),
            ]
        }
    )
    assert [key.key_id for key in keys] == ["good"]


def test_e5_a_key_whose_kid_is_not_a_string_is_ignored() -> None:
    """Tokens name keys by string ``kid``; a numbered key could only be picked as "the one key"."""
    numbered = {**rsa_jwk("unused"), "kid": 7}
    assert [key.key_id for key in parse_key_set({"keys": [numbered, rsa_jwk("good")]})] == ["good"]
    with pytest.raises(ProviderError):
        parse_key_set({"keys": [numbered]})


def test_d5_header_algorithm_must_fit_the_key() -> None:
    keys = parse_key_set({"keys": [rsa_jwk("rsa", alg="RS256"), ec_jwk("ec", ec.SECP256R1())]})
    assert select_key(keys, "rsa", "ES256") is None  # RSA key cannot verify ES256
    assert select_key(keys, "ec", "RS256") is None
    assert select_key(keys, "ec", "ES256") is not None
    assert select_key(keys, "rsa", "RS384") is None  # the key declares RS256


@pytest.mark.parametrize(
    "document",
    [{"keys": [rsa_jwk("enc", use="enc"), rsa_jwk("weak", bits=1024)]}, {"keys": {}}, {}],
)
def test_e5_a_jwks_with_no_usable_signing_key_is_refused(document) -> None:
    with pytest.raises(ProviderError):
        parse_key_set(document)
