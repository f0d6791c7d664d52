"""Signing keys with ScotAccount's lifecycle, and the one JWT signer.

Each issuer (sign-in, attributes) owns a :class:`KeySet`. A key is *added*
(published, not yet used), *activated* (signs; listed first in the JWKS, as
ScotAccount documents "the most recent key will always be the first one"),
*retired* (still published so older tokens verify) and finally *removed*.

RSA key generation is slow, so private key material comes from a small
per-process pool shared by every instance; the kids and lifecycle state are
per instance.
"""

from __future__ import annotations

import enum
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"

_pool: list[rsa.RSAPrivateKey] = []
_pool_lock = threading.Lock()


def pooled_key(index: int) -> rsa.RSAPrivateKey:
    """The ``index``-th key of the process-wide pool, generated on first use."""
    with _pool_lock:
        while len(_pool) <= index:
            _pool.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _pool[index]


class KeyAllocator:
    """Hands one instance distinct pool keys, so its two issuers never share material."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def allocate(self) -> rsa.RSAPrivateKey:
        with self._lock:
            index = self._next
            self._next += 1
        return pooled_key(index)


class KeyState(str, enum.Enum):
    """Where a key is in its lifecycle."""

    ADDED = "added"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass
class SigningKey:
    """One RSA key pair and its lifecycle state."""

    kid: str
    private_key: rsa.RSAPrivateKey
    state: KeyState

    def public_jwk(self) -> dict[str, Any]:
        """The public half only, as published (``kty, e, use, kid, n, alg``)."""
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.pop("key_ops", None)  # "use" says it; RFC 7517 advises against both
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def public_pem(self) -> bytes:
        """The public key as PEM (what an algorithm-confusion attack keys HMAC with)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_kid() -> str:
    """A short random key id, like ScotAccount's ``WgiG``."""
    return secrets.token_urlsafe(6)


def sign_jwt(
    claims: dict[str, Any],
    key: SigningKey,
    *,
    typ: str | None = None,
    include_kid: bool = True,
) -> str:
    """Sign ``claims`` with RS256; the only signer for ID, access and claims tokens."""
    headers: dict[str, Any] = {"kid": key.kid} if include_kid else {}
    if typ:
        headers["typ"] = typ
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)


class KeySet:
    """The published keys of one issuer, newest active key first."""

    def __init__(self, allocator: KeyAllocator) -> None:
        self._allocator = allocator
        self._keys: list[SigningKey] = []
        self._lock = threading.RLock()
        self.activate(self.add())

    def add(self) -> str:
        """Publish a new key without signing with it yet; returns its kid."""
        key = SigningKey(new_kid(), self._allocator.allocate(), KeyState.ADDED)
        with self._lock:
            self._keys.append(key)
        return key.kid

    def activate(self, kid: str) -> None:
        """Sign with ``kid`` from now on; the previously active key is retired."""
        with self._lock:
            key = self._get(kid)
            for other in self._keys:
                if other.state is KeyState.ACTIVE:
                    other.state = KeyState.RETIRED
            key.state = KeyState.ACTIVE
            self._keys.remove(key)
            self._keys.insert(0, key)

    def retire(self, kid: str) -> None:
        """Stop signing with ``kid`` but keep publishing it."""
        with self._lock:
            key = self._get(kid)
            if key.state is KeyState.ACTIVE:
                raise ValueError("Activate another key before retiring the active one.")
            key.state = KeyState.RETIRED

    def remove(self, kid: str) -> None:
        """Stop publishing ``kid``; tokens it signed no longer verify."""
        with self._lock:
            key = self._get(kid)
            if key.state is KeyState.ACTIVE:
                raise ValueError("Activate another key before removing the active one.")
            self._keys.remove(key)

    def rotate(self) -> str:
        """Add and activate a new key in one step (ScotAccount's routine rotation)."""
        kid = self.add()
        self.activate(kid)
        return kid

    def spare(self) -> SigningKey:
        """A key from the pool that this set never publishes (for unknown-``kid`` faults)."""
        return SigningKey(new_kid(), self._allocator.allocate(), KeyState.ADDED)

    @property
    def active(self) -> SigningKey:
        with self._lock:
            return next(key for key in self._keys if key.state is KeyState.ACTIVE)

    @property
    def kids(self) -> list[str]:
        """Published kids in JWKS order."""
        with self._lock:
            return [key.kid for key in self._keys]

    def state_of(self, kid: str) -> KeyState:
        with self._lock:
            return self._get(kid).state

    def find(self, kid: str) -> SigningKey | None:
        with self._lock:
            return next((key for key in self._keys if key.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS document: public members only."""
        with self._lock:
            return {"keys": [key.public_jwk() for key in self._keys]}

    def sign(self, claims: dict[str, Any], *, typ: str | None = None) -> str:
        """Sign with the active key."""
        return sign_jwt(claims, self.active, typ=typ)

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a token this issuer signed with a published key; time claims unchecked.

        Raises ``jwt.PyJWTError`` otherwise. Callers judge expiry on the fake's clock.
        """
        kid = jwt.get_unverified_header(token).get("kid")
        key = self.find(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidKeyError(f"No published key with kid {kid!r}.")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
        )
        return claims

    def _get(self, kid: str) -> SigningKey:
        key = self.find(kid)
        if key is None:
            raise KeyError(f"No published key with kid {kid!r}.")
        return key
