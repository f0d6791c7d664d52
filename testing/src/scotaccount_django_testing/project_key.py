"""The relying party's signing key as the fake registers it: from the settings, or made.

Shared by the ``fake_scotaccount`` fixture and the self-test, which both register a
Django project's own key (or a fresh one) with the fake. No pytest, no Django import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def private_key(settings: Any) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The relying party's configured key, or a fresh EC P-256 key put into the settings."""
    pem = getattr(settings, "SCOTACCOUNT_PRIVATE_KEY", None)
    if pem and not str(pem).lstrip().startswith("-----BEGIN"):
        pem = Path(pem).read_bytes()  # the setting is the key file's path
    if pem:
        key = serialization.load_pem_private_key(
            pem.encode() if isinstance(pem, str) else pem, password=None
        )
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
    """The public half of :func:`private_key` as a JWK, with the app's thumbprint ``kid``."""
    key = private_key(settings)
    if isinstance(key, rsa.RSAPrivateKey):
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    # The app sends the key's RFC 7638 thumbprint as its kid (redesign-conf/back).
    from scotaccount_django._internal.provider import jwk_thumbprint

    return {**jwk, "kid": jwk_thumbprint(jwk)}
