"""Everything one fake instance knows: its registration, keys, clock, faults and grants.

Handlers receive a :class:`ProviderState` and nothing global, which is what
keeps two instances (two tests, two xdist workers) from seeing each other.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from scotaccount_django_testing.fake.assertions import (
    AssertionPolicy,
    ClientKey,
    JtiRegistry,
)
from scotaccount_django_testing.fake.clock import Clock
from scotaccount_django_testing.fake.journal import Journal
from scotaccount_django_testing.fake.keys import KeyAllocator, KeySet
from scotaccount_django_testing.fake.personas import PERSONAS, Persona
from scotaccount_django_testing.fake.scenarios import Scenarios

if TYPE_CHECKING:
    from scotaccount_django_testing.fake.sessions import BrowserSession

Mode = Literal["strict", "lax"]


@dataclass(frozen=True)
class Registration:
    """What ScotAccount holds about the relying party after onboarding."""

    client_id: str
    keys: list[ClientKey]
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class Lifetimes:
    """Lifetimes in seconds: ``access_token`` is the documented 900, the rest are guesses."""

    code: int = 60
    access_token: int = 900
    id_token: int = 900
    max_assertion: int = 600


@dataclass(frozen=True)
class AuthRequest:
    """A validated ``/authorize`` request waiting for the person to sign in and consent."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None


@dataclass
class CodeGrant:
    """An authorization code: single-use, short-lived, bound to client, redirect URI and PKCE."""

    request: AuthRequest
    persona: Persona
    released: tuple[str, ...]
    sid: str
    issued_at: int
    used: bool = False
    access_jtis: list[str] = field(default_factory=list)


@dataclass
class AccessGrant:
    """What an access token lets the attributes endpoint release."""

    client_id: str
    persona: Persona
    released: tuple[str, ...]
    expires_at: int
    revoked: bool = False


@dataclass(frozen=True)
class Endpoints:
    """The two origins' URLs, fixed once both servers are bound."""

    issuer: str
    attributes_origin: str

    @property
    def token(self) -> str:
        return f"{self.issuer}/token"

    @property
    def attributes_url(self) -> str:
        return f"{self.attributes_origin}/attributes/values"

    @property
    def attributes_issuer(self) -> str:
        return f"{self.attributes_origin}/jwt"


class ProviderState:
    """The mutable heart of one fake: grants and the controls a test drives."""

    def __init__(
        self,
        registration: Registration,
        *,
        mode: Mode,
        auto_approve: str | None,
        legacy_claims_layout: bool,
        lifetimes: Lifetimes,
        timeout_delay: float,
        variants: frozenset[str] = frozenset(),
    ) -> None:
        if auto_approve is not None and auto_approve not in PERSONAS:
            raise ValueError(f"Unknown persona {auto_approve!r}; choose from {sorted(PERSONAS)}.")
        self.registration = registration
        self.mode = mode
        self.auto_approve = auto_approve
        self.legacy_claims_layout = legacy_claims_layout
        #: Documented variants switched on (``variants.VARIANTS``).
        self.variants = variants
        self.lifetimes = lifetimes
        self.clock = Clock()
        allocator = KeyAllocator()
        self.signing_keys = KeySet(allocator)
        self.attributes_keys = KeySet(allocator)
        self.scenarios = Scenarios(timeout_delay)
        self.journal = Journal()
        self.jtis = JtiRegistry()
        self.endpoints = Endpoints("http://unbound", "http://unbound")
        self.pending: dict[str, AuthRequest] = {}
        self.codes: dict[str, CodeGrant] = {}
        self.access: dict[str, AccessGrant] = {}
        self.sessions: dict[str, str] = {}
        #: Browser cookie -> the person signed in there (``sessions.py``).
        self.browser_sessions: dict[str, BrowserSession] = {}
        self.lock = threading.Lock()

    @property
    def strict(self) -> bool:
        return self.mode == "strict"

    def assertion_policy(self) -> AssertionPolicy:
        return AssertionPolicy(
            client_id=self.registration.client_id,
            keys=self.registration.keys,
            max_lifetime=self.lifetimes.max_assertion,
            strict=self.strict,
        )

    def hold(self, request: AuthRequest) -> str:
        """Keep a validated request for the sign-in pages; returns its opaque id."""
        request_id = secrets.token_urlsafe(24)
        with self.lock:
            self.pending[request_id] = request
        return request_id

    def peek(self, request_id: str) -> AuthRequest | None:
        """A pending request, left in place (the consent page still needs it)."""
        with self.lock:
            return self.pending.get(request_id)

    def release(self, request_id: str) -> AuthRequest | None:
        """Take a pending request out (each is completed at most once)."""
        with self.lock:
            return self.pending.pop(request_id, None)

    def issue_code(
        self,
        request: AuthRequest,
        persona: Persona,
        released: tuple[str, ...],
        sid: str | None = None,
    ) -> str:
        """A code for ``persona``; ``sid`` is the browser's ScotAccount session, if any."""
        code = secrets.token_urlsafe(32)
        sid = sid or secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = CodeGrant(request, persona, released, sid, self.clock.now())
            self.sessions[sid] = persona.id
        return code

    def redeem_code(self, code: str) -> tuple[CodeGrant | None, bool]:
        """Mark ``code`` used atomically; returns the grant and whether it was already used.

        A reused code also revokes the access tokens it produced (RFC 6749 section 4.1.2).
        """
        with self.lock:
            grant = self.codes.get(code)
            if grant is None:
                return None, False
            if grant.used:
                for jti in grant.access_jtis:
                    self.access[jti].revoked = True
                return grant, True
            grant.used = True
            return grant, False
