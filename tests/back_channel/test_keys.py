"""Our private key: accepted kinds, refused kinds, rotation without restart, kid."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core import checks

from scotaccount_django._internal.provider import (
    jwk_thumbprint,
    load_signing_key,
    public_jwk,
)
from scotaccount_django.exceptions import ConfigurationError


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_rsa_key_signs_rs256(settings) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = pem(rsa.generate_private_key(65537, 2048)).decode()
    assert load_signing_key().algorithm == "RS256"


def test_ec_key_signs_es256(settings) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = pem(ec.generate_private_key(ec.SECP256R1())).decode()
    assert load_signing_key().algorithm == "ES256"


def test_c3_rsa_below_2048_bits_is_refused(settings) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = pem(rsa.generate_private_key(65537, 1024)).decode()
    with pytest.raises(ConfigurationError, match="1024 bits"):
        load_signing_key()


def test_c3_ec_other_than_p256_is_refused(settings) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = pem(ec.generate_private_key(ec.SECP384R1())).decode()
    with pytest.raises(ConfigurationError, match="P-256"):
        load_signing_key()


def test_encrypted_key_is_refused(settings) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    settings.SCOTACCOUNT_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(ConfigurationError, match="unencrypted PEM"):
        load_signing_key()


def test_e7_key_error_never_contains_key_material(settings) -> None:
    text = pem(rsa.generate_private_key(65537, 1024)).decode()
    settings.SCOTACCOUNT_PRIVATE_KEY = text
    with pytest.raises(ConfigurationError) as caught:
        load_signing_key()
    assert "PRIVATE KEY" not in str(caught.value)


def test_e7_rotated_key_file_is_picked_up_without_restart(settings, tmp_path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    settings.SCOTACCOUNT_PRIVATE_KEY = str(path)
    first = load_signing_key()
    assert load_signing_key() is first  # cached while the file is unchanged
    path.write_bytes(pem(rsa.generate_private_key(65537, 2048)))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_signing_key()
    assert second.algorithm == "RS256"
    assert second.kid != first.kid


def test_unreadable_key_file_is_a_configuration_error(settings, tmp_path) -> None:
    settings.SCOTACCOUNT_PRIVATE_KEY = str(tmp_path / "missing.pem")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_signing_key()


def test_kid_is_the_rfc7638_thumbprint(settings) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    settings.SCOTACCOUNT_PRIVATE_KEY = pem(key).decode()
    assert load_signing_key().kid == jwk_thumbprint(public_jwk(key.public_key()))


def test_thumbprint_matches_rfc7638_example() -> None:
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
            "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
            "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
            "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_l13_a_key_file_others_can_read_warns(settings, tmp_path, capsys, mode) -> None:
    """A check message under ``check --deploy`` (W003), not a stray log line."""
    path = tmp_path / "key.pem"
    path.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    path.chmod(mode)
    settings.SCOTACCOUNT_PRIVATE_KEY = str(path)
    warned = [
        m for m in checks.run_checks(include_deployment_checks=True) if m.id == "scotaccount.W003"
    ]
    assert [f"mode {mode:04o}" in m.msg and f"chmod 600 {path}" in m.hint for m in warned] == [
        True
    ]
    assert capsys.readouterr().err == ""


def test_l13_an_owner_only_key_file_loads_quietly(settings, tmp_path, caplog) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    path.chmod(0o600)
    settings.SCOTACCOUNT_PRIVATE_KEY = str(path)
    with caplog.at_level("DEBUG", logger="scotaccount_django"):
        load_signing_key()
    assert not caplog.records
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True)}
    assert "scotaccount.W003" not in ids
