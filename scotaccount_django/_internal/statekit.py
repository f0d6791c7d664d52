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
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    BrowserMismatch,
    FlowExpired,
    FlowRateLimited,
    UnknownFlow,
)
from scotaccount_django.models import AuthorizationFlow

#: 48 random bytes -> 64 URL-safe characters, inside RFC 7636's 43..128.
CODE_VERIFIER_BYTES = 48
SECRET_BYTES = 32
#: One browser-binding secret: what ``new_secret`` makes.
_BINDING = re.compile(r"[A-Za-z0-9_-]{43}")
#: The secure cookie's prefix: a sibling subdomain or a network attacker cannot set it (L2).
HOST_PREFIX = "__Host-"
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


def flow_cookie_name(*, secure: bool) -> str:
    """``__Host-scotaccount_flow`` on https, where the browser guarantees only this host set it."""
    return f"{HOST_PREFIX}{conf.FLOW_COOKIE_NAME}" if secure else conf.FLOW_COOKIE_NAME


def browser_bindings(request: HttpRequest, *, secure: bool) -> list[str]:
    """The binding secrets this browser's flow cookie holds, oldest first (one per flow).

    On https only the ``__Host-`` cookie is read: an unprefixed one could have
    been planted by another subdomain.
    """
    value = request.COOKIES.get(flow_cookie_name(secure=secure), "")
    return [part for part in value.split(".") if _BINDING.fullmatch(part)]


def start_flow(
    request: HttpRequest,
    *,
    purpose: str,
    scopes: list[str],
    redirect_uri: str,
    next_url: str = "",
    initiating_sub: uuid.UUID | None = None,
) -> StartedFlow:
    """Record a new authorization flow; return the secrets its request must carry.

    The flow is bound to a binding secret minted for it alone (L2): a value the
    browser sends is never adopted, so a planted cookie binds nothing. The
    cookie lists this browser's pending flows (several tabs), at most
    ``SCOTACCOUNT_MAX_PENDING_FLOWS_PER_BROWSER``: starting one more forgets the
    oldest, so one browser cannot pile up flows (L1).
    """
    check_flow_rate(request)
    state = new_secret()
    nonce = new_secret()
    code_verifier = secrets.token_urlsafe(CODE_VERIFIER_BYTES)
    binding = new_secret()
    now = timezone.now()
    # Expired rows are deleted by the scotaccount_purge command, not here.
    kept = _pending_bindings(request, secure=redirect_uri.startswith("https://"))
    keep = max(conf.MAX_PENDING_FLOWS_PER_BROWSER - 1, 0)
    cut = max(len(kept) - keep, 0)
    dropped, kept = kept[:cut], kept[cut:]
    if dropped:
        AuthorizationFlow.objects.filter(
            browser_binding_hash__in=[hash_secret(b) for b in dropped]
        ).delete()
    AuthorizationFlow.objects.create(
        state_hash=hash_secret(state),
        nonce_hash=hash_secret(nonce),
        code_verifier=code_verifier,
        browser_binding_hash=hash_secret(binding),
        purpose=purpose,
        scopes=" ".join(scopes),
        redirect_uri=redirect_uri,
        initiating_sub=initiating_sub,
        started_by_id=_signed_in_user_id(request),
        next_url=next_url,
        expires_at=now + conf.FLOW_LIFETIME,
    )
    return StartedFlow(
        state=state,
        nonce=nonce,
        code_challenge=generate_code_challenge(code_verifier, "S256"),
        browser_cookie=".".join([*kept, binding]),
    )


def _signed_in_user_id(request: HttpRequest) -> Any:
    """Who is signed in as the flow starts: only they may have an account linked (L3)."""
    user = getattr(request, "user", None)
    return user.pk if isinstance(user, AbstractBaseUser) and user.is_authenticated else None


def _pending_bindings(request: HttpRequest, *, secure: bool) -> list[str]:
    """The cookie's bindings that still belong to a pending flow we minted them for."""
    bindings = browser_bindings(request, secure=secure)
    pending = set(
        AuthorizationFlow.objects.filter(
            browser_binding_hash__in=[hash_secret(b) for b in bindings]
        ).values_list("browser_binding_hash", flat=True)
    )
    return [b for b in bindings if hash_secret(b) in pending]


def check_flow_rate(request: HttpRequest) -> None:
    """At most ``SCOTACCOUNT_FLOW_RATE_LIMIT`` new flows per client address per window (L1).

    Every flow is a database row that lives for days, and starting one needs no
    account: without a limit, a loop of anonymous requests fills the table. The
    count lives in Django's cache, so every worker shares it.
    """
    limit = conf.FLOW_RATE_LIMIT
    if limit is None:
        return
    window = int(conf.FLOW_RATE_WINDOW.total_seconds()) or 1
    address = request.META.get("REMOTE_ADDR", "")
    key = f"scotaccount:flow-rate:{hash_secret(address)[:32]}:{int(time.time()) // window}"
    cache = caches[conf.CACHE_ALIAS]
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        count = 1
    if count > limit:
        raise FlowRateLimited("too many new flows from this address")


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
    bindings = browser_bindings(request, secure=flow.redirect_uri.startswith("https://"))
    if not any(matches_hash(b, flow.browser_binding_hash) for b in bindings):
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
