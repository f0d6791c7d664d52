"""How we prove we are the registered client: our private key and the assertions it signs.

The key is loaded from a file or a setting, checked, and reloaded when rotated.
ScotAccount asks for the key to be mounted as a tmpfs file; operators replace
that file to rotate it. The cache is keyed on the file's mtime and size, so a
new key is used on the next request without a restart.

Client assertions (RFC 7523 ``private_key_jwt``) come from one builder for
every audience. Each call gets a fresh ``jti`` (retries included) and a short
life, and ``aud`` is one string naming exactly the endpoint it is sent to, so an
assertion captured at one endpoint is useless at the other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ConfigurationError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

#: The one minimum for every RSA key, ours and ScotAccount's (checks, JWKS, the fake).
MIN_RSA_BITS = 2048
#: Long enough for clock skew and a slow network, short enough to be useless if leaked.
ASSERTION_LIFETIME_SECONDS = 120

logger = logging.getLogger("scotaccount_django")


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign client assertions."""

    private_key: PrivateKey
    algorithm: str
    kid: str


_cache: dict[tuple[Any, ...], SigningKey] = {}
_lock = threading.Lock()


#: Said wherever the key is refused: by ``check --deploy`` (scotaccount.E003) and in
#: the log line when a sign-in first needs the key.
KEY_HINT = (
    "Use an unencrypted PEM RSA key of at least 2048 bits (3072 recommended) or an "
    "EC P-256 key; `manage.py scotaccount_keygen PATH` makes one."
)


def load_signing_key() -> SigningKey:
    """Our configured signing key; ``ConfigurationError`` says what is wrong and what to do."""
    try:
        return _load_signing_key()
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"The ScotAccount private key cannot be used: {str(exc).rstrip('.')}. {KEY_HINT}"
        ) from exc


def _load_signing_key() -> SigningKey:
    path, text = conf.PRIVATE_KEY_FILE, conf.PRIVATE_KEY_PEM
    if path:
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise ConfigurationError(
                f"SCOTACCOUNT_PRIVATE_KEY file {path} cannot be read: {exc.strerror}."
            ) from exc
        cache_key: tuple[Any, ...] = ("file", path, stat.st_mtime_ns, stat.st_size)
    elif text:
        cache_key = ("text", hashlib.sha256(text.encode()).hexdigest())
    else:
        raise ConfigurationError("SCOTACCOUNT_PRIVATE_KEY is not set.")
    with _lock:
        cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    pem = _read_file(path) if path else (text or "").encode()
    private_key = parse_private_key(pem)
    signing_key = SigningKey(
        private_key=private_key,
        algorithm=algorithm_for(private_key),
        kid=jwk_thumbprint(public_jwk(private_key.public_key())),
    )
    with _lock:
        _cache.clear()  # only the current key is worth keeping
        _cache[cache_key] = signing_key
    return signing_key


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigurationError(
            f"SCOTACCOUNT_PRIVATE_KEY file {path} cannot be read: {exc.strerror}."
        ) from exc


def parse_private_key(pem: bytes) -> PrivateKey:
    """Parse a PEM private key and refuse anything ScotAccount would not accept."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            "The ScotAccount private key is not an unencrypted PEM private key."
        ) from exc
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigurationError(
                f"The ScotAccount private key is RSA {key.key_size} bits; "
                f"at least {MIN_RSA_BITS} are required (3072 recommended)."
            )
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ConfigurationError(
                f"The ScotAccount private key uses curve {key.curve.name}; only P-256 is accepted."
            )
        return key
    raise ConfigurationError("The ScotAccount private key must be RSA or EC P-256.")


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """RS256 for RSA keys, ES256 for P-256 keys: the two ScotAccount accepts."""
    return "RS256" if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) else "ES256"


def public_jwk(public_key: PublicKey) -> dict[str, str]:
    """The public half as a JWK (no private members), without ``kid``/``use``."""
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    return {name: str(value) for name, value in jwk.items() if name in _THUMBPRINT_MEMBERS}


_THUMBPRINT_MEMBERS = {"kty", "n", "e", "crv", "x", "y"}


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint: a ``kid`` both sides can compute from the key."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_client_assertion(audience: str) -> str:
    """A signed assertion that we are the registered client, for ``audience`` only."""
    client_id = conf.CLIENT_ID
    if not client_id:
        raise ConfigurationError("SCOTACCOUNT_CLIENT_ID is not set.")
    key = load_signing_key()
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(32),
    }
    return jwt.encode(
        claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"}
    )
