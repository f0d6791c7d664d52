"""Every one-time secret: sign-in and step-up ``state``, nonce, PKCE, logout ``state``.

Like django-allauth's ``socialaccount/internal/statekit.py``: one small module
makes, stores, consumes and hashes them all, so there is no second copy of any
of it. Defences, by attack:
- CSRF / login CSRF: ``state`` (256 bits) is matched, and an authorization flow
  is bound to the browser that started it by a separate cookie whose hash is stored.
- Replay and double submission: a flow row is deleted to be consumed; only the
  request whose DELETE removed the row may continue, even at the same instant.
  The logout ``state`` is consumed from the session the same way (once).
- Code interception: PKCE S256 with a fresh 64-character verifier.
- Several tabs: each tab's flow is its own row; the browser cookie is shared.
- Leaks of the store: only SHA-256 hashes of state, nonce and cookie are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    BrowserMismatch,
    FlowExpired,
    UnknownFlow,
)
from scotaccount_django.models import AuthorizationFlow

#: 48 random bytes -> 64 URL-safe characters, inside RFC 7636's 43..128.
CODE_VERIFIER_BYTES = 48
SECRET_BYTES = 32
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: SHA-256 of the ``state`` sent with a logout; read (once) by the logged-out view.
LOGOUT_STATE_HASH = "_scotaccount_logout_state_hash"


def new_secret() -> str:
    """A fresh 256-bit URL-safe secret (state, nonce, browser cookie)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(value: str) -> str:
    """SHA-256 hex digest, for secrets we only ever compare (state, nonce, cookie, sid)."""
    return hashlib.sha256(value.encode()).hexdigest()


def matches_hash(value: str, expected_hash: object) -> bool:
    """True when ``value`` hashes to ``expected_hash`` (compared in constant time)."""
    return (
        isinstance(expected_hash, str)
        and bool(value)
        and hmac.compare_digest(hash_secret(value), expected_hash)
    )


@dataclass(frozen=True)
class StartedFlow:
    """What ScotAccount's authorization request carries, and the browser cookie to set."""

    state: str
    nonce: str
    code_challenge: str
    browser_cookie: str


def browser_cookie_value(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(conf.FLOW_COOKIE_NAME)
    return value if value and _COOKIE_VALUE.match(value) else None


def start_flow(
    request: HttpRequest,
    *,
    purpose: str,
    scopes: list[str],
    redirect_uri: str,
    next_url: str = "",
    initiating_sub: uuid.UUID | None = None,
) -> StartedFlow:
    """Record a new authorization flow; return the secrets its request must carry."""
    state = new_secret()
    nonce = new_secret()
    code_verifier = secrets.token_urlsafe(CODE_VERIFIER_BYTES)
    browser_cookie = browser_cookie_value(request) or new_secret()
    now = timezone.now()
    # Expired rows are deleted by the scotaccount_purge command, not here.
    AuthorizationFlow.objects.create(
        state_hash=hash_secret(state),
        nonce_hash=hash_secret(nonce),
        code_verifier=code_verifier,
        browser_binding_hash=hash_secret(browser_cookie),
        purpose=purpose,
        scopes=" ".join(scopes),
        redirect_uri=redirect_uri,
        initiating_sub=initiating_sub,
        next_url=next_url,
        expires_at=now + conf.FLOW_LIFETIME,
    )
    return StartedFlow(
        state=state,
        nonce=nonce,
        code_challenge=generate_code_challenge(code_verifier, "S256"),
        browser_cookie=browser_cookie,
    )


def consume_flow(request: HttpRequest, state: str | None) -> AuthorizationFlow:
    """Take the flow ``state`` names out of the store, for this browser only.

    The row is deleted whatever happens next, so a callback can never be
    replayed, not even after an error.
    """
    if not state:
        raise UnknownFlow("the callback has no state")
    flow = AuthorizationFlow.objects.filter(state_hash=hash_secret(state)).first()
    if flow is None:
        raise UnknownFlow("no pending flow has this state")
    deleted, _ = AuthorizationFlow.objects.filter(pk=flow.pk).delete()
    if not deleted:
        raise UnknownFlow("the flow was consumed by a concurrent request")
    if flow.expires_at <= timezone.now():
        raise FlowExpired("the flow has expired")
    cookie = browser_cookie_value(request)
    if cookie is None or not matches_hash(cookie, flow.browser_binding_hash):
        raise BrowserMismatch("the callback came to a browser that did not start this flow")
    return flow


def start_logout(session: SessionBase) -> str:
    """A new logout ``state``; its hash goes into ``session``.

    Rather than a signed cookie: it stays server-side, is bound to this browser
    by the session cookie, and is consumed on return, so a captured logout
    return cannot be replayed.
    """
    state = new_secret()
    session[LOGOUT_STATE_HASH] = hash_secret(state)
    return state


def consume_logout(session: SessionBase, state: str) -> bool:
    """True (once) when ``state`` is the one this session's logout sent."""
    if not matches_hash(state, session.get(LOGOUT_STATE_HASH)):
        return False
    del session[LOGOUT_STATE_HASH]
    return True
