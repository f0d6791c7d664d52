"""The relying party's signing key as the fake registers it: from the settings, or made.

Shared by the ``fake_scotaccount`` fixture and the self-test, which both register a
Django project's own key (or a fresh one) with the fake. No pytest import, and
Django only when a JWK is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def private_key(settings: Any) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The relying party's configured key, or a fresh EC P-256 key put into the settings.

    ``SCOTACCOUNT_PRIVATE_KEY`` holds the PEM text or a PEM file's path, as the app reads it.
    """
    value = getattr(settings, "SCOTACCOUNT_PRIVATE_KEY", None)
    if value:
        text = str(value)
        pem = text.encode() if text.lstrip().startswith("-----BEGIN") else Path(text).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError("SCOTACCOUNT_PRIVATE_KEY must be an RSA or EC P-256 key.")
        return key
    generated = ec.generate_private_key(ec.SECP256R1())
    settings.SCOTACCOUNT_PRIVATE_KEY = generated.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return generated


def public_jwk(settings: Any) -> dict[str, Any]:
    """The public half of :func:`private_key` as a JWK, with the kid the app sends.

    That kid is the key's RFC 7638 thumbprint, computed as the app computes it.
    """
    from scotaccount_django._internal.provider import jwk_thumbprint
    from scotaccount_django._internal.provider import public_jwk as jwk_of

    jwk = jwk_of(private_key(settings).public_key())
    return {**jwk, "kid": jwk_thumbprint(jwk)}
