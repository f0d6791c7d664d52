"""Client authentication by ``private_key_jwt``: one verifier for token and attributes endpoints.

What each check stops:

* signature against the *registered* key only (never a key named in the token):
  anyone could otherwise mint assertions for the client;
* ``alg`` limited to RS256/ES256, taken from the registration, not trusted
  from the header beyond choosing between them (``none`` and HS256 confusion);
* ``iss`` = ``sub`` = client id: an assertion for another client is not ours;
* ``aud`` exactly this endpoint's URL as a single string: an assertion made for
  the attributes endpoint cannot be replayed at the token endpoint (or elsewhere);
* ``exp`` present, not passed and not too far ahead: a leaked assertion has a
  short useful life (ScotAccount's sample client signs them for six months);
* ``jti`` never seen before: a captured assertion cannot be replayed at all.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from scotaccount_django_testing.fake.clock import Clock
from scotaccount_django_testing.fake.journal import JournalEntry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS256", "ES256")
#: ScotAccount refuses shorter RSA client keys.
MIN_RSA_BITS = 2048
#: Clock skew tolerated on ``iat`` (a guess; ScotAccount does not say).
LEEWAY = 30

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
#: What a registration accepts: PEM text or bytes, a JWKS or JWK dict, or a key object.
KeySource = (
    str | bytes | dict[str, Any] | PublicKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
)


@dataclass(frozen=True)
class ClientKey:
    """One registered public key of the relying party."""

    key: PublicKey
    kid: str | None

    @property
    def algorithm(self) -> str:
        return "RS256" if isinstance(self.key, rsa.RSAPublicKey) else "ES256"


def _from_jwk(jwk: dict[str, Any]) -> ClientKey:
    key = jwt.PyJWK(jwk).key
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("Client keys must be RSA or EC P-256.")
    return ClientKey(key, jwk.get("kid"))


def _from_pem(pem: bytes) -> ClientKey:
    if b"PRIVATE KEY" in pem:
        private = serialization.load_pem_private_key(pem, password=None)
        public: Any = private.public_key()
    else:
        public = serialization.load_pem_public_key(pem)
    if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("Client keys must be RSA or EC P-256.")
    return ClientKey(public, None)


def load_client_keys(sources: Iterable[KeySource]) -> list[ClientKey]:
    """Every accepted form of a relying party's key, as public keys (private halves dropped)."""
    keys: list[ClientKey] = []
    for source in sources:
        if isinstance(source, dict):
            jwks = source.get("keys", [source])
            keys.extend(_from_jwk(jwk) for jwk in jwks)
        elif isinstance(source, str | bytes):
            text = source.encode() if isinstance(source, str) else source
            if text.lstrip().startswith(b"{"):
                keys.extend(load_client_keys([json.loads(text)]))
            else:
                keys.append(_from_pem(text))
        elif isinstance(source, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            keys.append(ClientKey(source.public_key(), None))
        else:
            keys.append(ClientKey(source, None))
    for client_key in keys:
        if isinstance(client_key.key, rsa.RSAPublicKey) and client_key.key.key_size < MIN_RSA_BITS:
            raise ValueError("ScotAccount requires RSA keys of 2048 bits or more.")
        if isinstance(client_key.key, ec.EllipticCurvePublicKey) and not isinstance(
            client_key.key.curve, ec.SECP256R1
        ):
            raise ValueError("ScotAccount's EC keys use curve P-256.")
    return keys


class JtiRegistry:
    """Every assertion ``jti`` seen, per client, kept until the assertion would expire.

    A dict answers "seen before?" and a heap ordered by expiry says what to forget,
    so each check costs O(log n) however many sign-ins a long run has made (a scan
    of every live entry made the fake slower as a benchmark went on).
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}
        self._expiries: list[tuple[int, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def first_use(self, client_id: str, jti: str, expires: int, now: int) -> bool:
        """Record ``jti``; False if it was already used (a replay)."""
        key = (client_id, jti)
        with self._lock:
            self._forget_expired(now)
            if key in self._seen:
                return False
            self._seen[key] = expires
            heapq.heappush(self._expiries, (expires, key))
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def _forget_expired(self, now: int) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, key = heapq.heappop(self._expiries)
            del self._seen[key]


@dataclass(frozen=True)
class AssertionPolicy:
    """What the verifier demands; lax mode checks the signature and nothing else."""

    client_id: str
    keys: list[ClientKey]
    max_lifetime: int
    strict: bool


def _unverified_parts(
    assertion: str, entry: JournalEntry
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        entry.fail("assertion.well_formed", str(error))
    entry.client_assertion = {"header": header, "claims": claims}
    entry.check("assertion.well_formed", True)
    return header, claims


def _signature_valid(assertion: str, header: dict[str, Any], keys: list[ClientKey]) -> bool:
    algorithm = header.get("alg")
    candidates = [key for key in keys if key.algorithm == algorithm]
    kid = header.get("kid")
    if kid is not None and any(key.kid == kid for key in candidates):
        candidates = [key for key in candidates if key.kid == kid]
    for candidate in candidates:
        try:
            jwt.decode(
                assertion,
                candidate.key,
                algorithms=[candidate.algorithm],
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            continue
        return True
    return False


def verify_client_assertion(
    assertion: str | None,
    *,
    audience: str,
    policy: AssertionPolicy,
    clock: Clock,
    jtis: JtiRegistry,
    entry: JournalEntry,
) -> None:
    """Check a client assertion, recording each rule in ``entry``; ``Refusal`` on failure."""
    entry.check("assertion.present", bool(assertion))
    assert assertion is not None
    header, claims = _unverified_parts(assertion, entry)
    entry.check(
        "assertion.alg_allowed",
        header.get("alg") in ASSERTION_ALGORITHMS,
        f"alg {header.get('alg')!r}; allowed {', '.join(ASSERTION_ALGORITHMS)}",
    )
    entry.check(
        "assertion.signature",
        _signature_valid(assertion, header, policy.keys),
        "checked against the client's registered public key(s)",
    )
    if not policy.strict:
        entry.note("assertion.claims", True, "lax mode: assertion contents not checked")
        return
    now = clock.now()
    entry.check(
        "assertion.iss", claims.get("iss") == policy.client_id, f"iss {claims.get('iss')!r}"
    )
    entry.check(
        "assertion.sub", claims.get("sub") == policy.client_id, f"sub {claims.get('sub')!r}"
    )
    entry.check(
        "assertion.aud",
        claims.get("aud") == audience,
        f"aud {claims.get('aud')!r}, expected {audience!r}",
    )
    exp = claims.get("exp")
    entry.check("assertion.exp_present", isinstance(exp, int | float), f"exp {exp!r}")
    expires = int(exp) if isinstance(exp, int | float) else 0
    entry.check("assertion.not_expired", expires > now, f"exp {expires}, now {now}")
    entry.check(
        "assertion.lifetime",
        expires - now <= policy.max_lifetime,
        f"exp is {expires - now} s ahead; at most {policy.max_lifetime} s allowed",
    )
    iat = claims.get("iat")
    if iat is not None:
        entry.check(
            "assertion.iat_not_future",
            isinstance(iat, int | float) and iat <= now + LEEWAY,
            f"iat {iat!r}, now {now}",
        )
    jti = claims.get("jti")
    entry.check("assertion.jti_present", isinstance(jti, str) and bool(jti))
    entry.check(
        "assertion.jti_unused",
        jtis.first_use(policy.client_id, str(jti), expires, now),
        f"jti {jti!r}",
    )
