"""Every flow, from the browser's first redirect to its return: one module, one job.

Like django-allauth's ``socialaccount/internal/flows.py``: one small module
makes, stores, consumes and hashes every one-time secret (``state``, nonce,
PKCE verifier, browser binding, logout ``state``), builds the URLs that carry
them, and reads what comes back. Defences, by attack:
- CSRF / login CSRF: ``state`` (256 bits) is matched, and an authorization flow
  is bound to the browser that started it by a separate ``__Host-`` cookie whose
  hash is stored.
- Replay and double submission: a flow row is deleted to be consumed; only the
  request whose DELETE removed the row may continue, even at the same instant.
  The logout ``state`` is consumed from the session the same way (once).
- Code interception: PKCE S256 with a fresh 64-character verifier.
- Several tabs: each tab's flow is its own row; the browser cookie is shared.
- Leaks of the store: only SHA-256 hashes of state, nonce and cookie are kept.
- Open redirects: ``next`` is checked when stored and again when used.
- A planted link (M2): signing out, by any route, ends the flows that user started.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django._internal.provider import IDTokenClaims, TokenSet, get_metadata
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    BadCallback,
    BrowserMismatch,
    ConfigurationError,
    FlowExpired,
    FlowRateLimited,
    ProviderError,
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
#: Request attribute: the flow the callback is completing; read by the backend's hooks.
IN_PROGRESS = "_scotaccount_flow"
#: Query parameters ScotAccount may send back; each may appear once at most.
CALLBACK_PARAMETERS = ("code", "state", "error", "error_description", "iss")
MAX_PARAMETER_LENGTH = 4096
#: Longer ``next`` values are refused: no page of a site needs one.
MAX_NEXT_LENGTH = 2048
#: The URIs registered with ScotAccount: setting (without ``SCOTACCOUNT_``) -> our URL name.
REGISTERED_URIS = {
    "REDIRECT_URI": "scotaccount:callback",
    "POST_LOGOUT_REDIRECT_URI": "scotaccount:logged_out",
}


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


# Starting a flow ---------------------------------------------------------------------------


def start_authorization(
    request: HttpRequest,
    *,
    purpose: str,
    scopes: list[str],
    next_url: str,
    initiating_sub: uuid.UUID | None = None,
) -> HttpResponse:
    """Record a flow and redirect the browser to ScotAccount, setting the flow cookie.

    The flow is bound to a binding secret minted for it alone (L2): a value the
    browser sends is never adopted, so a planted cookie binds nothing. The
    cookie lists this browser's pending flows (several tabs), at most
    ``SCOTACCOUNT_MAX_PENDING_FLOWS_PER_BROWSER``: starting one more forgets the
    oldest, so one browser cannot pile up flows (L1).
    """
    redirect_uri = registered_uri(request, "REDIRECT_URI")
    endpoint = get_metadata().authorization_endpoint
    secure = redirect_uri.startswith("https://")
    check_flow_rate(request)
    state, nonce, binding = new_secret(), new_secret(), new_secret()
    code_verifier = secrets.token_urlsafe(CODE_VERIFIER_BYTES)
    # Expired rows are deleted by the scotaccount_purge command, not here.
    kept = _pending_bindings(request, secure=secure)
    cut = max(len(kept) - max(conf.MAX_PENDING_FLOWS_PER_BROWSER - 1, 0), 0)
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
        expires_at=timezone.now() + conf.FLOW_LIFETIME,
    )
    params = {
        "client_id": conf.CLIENT_ID or "",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": generate_code_challenge(code_verifier, "S256"),
        "code_challenge_method": "S256",
    }
    response = HttpResponseRedirect(with_query(endpoint, params))
    # The Location carries state and the response sets the binding cookie: no cache
    # may keep either and hand them to another browser (M8).
    response["Cache-Control"] = "no-store"
    response.set_cookie(
        flow_cookie_name(secure=secure),
        ".".join([*kept, binding]),
        max_age=int(conf.FLOW_LIFETIME.total_seconds()),
        path="/",  # __Host- requires Path=/ and no Domain
        httponly=True,
        secure=secure,
        # Strict would drop the cookie on the top-level redirect back from ScotAccount.
        samesite="Lax",
    )
    return response


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


def _signed_in_user_id(request: HttpRequest) -> Any:
    """Who is signed in as the flow starts: only they may have an account linked (L3)."""
    user = getattr(request, "user", None)
    return user.pk if isinstance(user, AbstractBaseUser) and user.is_authenticated else None


def _pending_bindings(request: HttpRequest, *, secure: bool) -> list[str]:
    """The cookie's bindings that still belong to a pending flow we minted them for."""
    bindings = browser_bindings(request, secure=secure)
    if not bindings:
        return []
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


# Finishing a flow --------------------------------------------------------------------------


@dataclass
class Completion:
    """A flow its callback is completing, and what the backend's hooks learn on the way."""

    flow: AuthorizationFlow
    tokens: TokenSet | None = None
    claims: IDTokenClaims | None = None


def consume(request: HttpRequest, state: str | None) -> Completion:
    """Take the flow ``state`` names out of the store, for this browser only.

    The row is deleted whatever happens next, so a callback can never be
    replayed, not even after an error. The flow is left on the request
    (``IN_PROGRESS``) for the backend's hooks.
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
    completion = Completion(flow)
    setattr(request, IN_PROGRESS, completion)
    return completion


def in_progress(request: HttpRequest | None) -> Completion | None:
    """The flow this request's callback is completing (set by ``consume``), or None."""
    return getattr(request, IN_PROGRESS, None)


def end_flows_started_by(sender: Any, user: Any = None, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: a person who signs out leaves no flow that links to them.

    Otherwise the next person at that browser could finish a "link my
    ScotAccount" flow the staff member abandoned (M2).
    """
    if user is not None and user.pk is not None:
        AuthorizationFlow.objects.filter(started_by_id=user.pk).delete()


def read_query_parameters(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    """The named query parameters, refusing duplicates and oversized values."""
    params: dict[str, str] = {}
    for name in names:
        values: list[Any] = request.GET.getlist(name)
        if len(values) > 1:
            raise BadCallback(f"the query repeats {name}")
        if values:
            if len(values[0]) > MAX_PARAMETER_LENGTH:
                raise BadCallback(f"the query's {name} is too long")
            params[name] = values[0]
    return params


# Logout ------------------------------------------------------------------------------------


def end_session_url(request: HttpRequest, id_token: str) -> str:
    """ScotAccount's logout with exactly the three documented parameters.

    Call after the local session is flushed: the logout ``state`` goes into the
    new, empty session, where it stays server-side, bound to this browser by the
    session cookie, and is consumed on return (a captured return cannot be replayed).
    """
    endpoint = end_session_endpoint()
    state = new_secret()
    request.session[LOGOUT_STATE_HASH] = hash_secret(state)
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": registered_uri(request, "POST_LOGOUT_REDIRECT_URI"),
        "state": state,
    }
    return with_query(endpoint, params)


def end_session_endpoint() -> str:
    """Discovery's ``end_session_endpoint``, else the setting, else the documented path.

    ScotAccount's documentation never mentions ``end_session_endpoint``; it
    documents ``/authorize/logout`` on the sign-in host (reference lines
    2363-2367), so a discovery document without the field must not leave people
    signed in at ScotAccount. Check ``scotaccount.I040`` reports the fallback.
    """
    advertised = get_metadata().end_session_endpoint
    if advertised:
        return advertised
    fallback = conf.DOCUMENTED_END_SESSION_URL
    if not fallback:
        raise ProviderError("no end_session_endpoint and no issuer")
    return fallback


def consume_logout(session: SessionBase, state: str) -> bool:
    """True (once) when ``state`` is the one this session's logout sent."""
    if not matches_hash(state, session.get(LOGOUT_STATE_HASH)):
        return False
    del session[LOGOUT_STATE_HASH]
    return True


# URLs in and out ---------------------------------------------------------------------------


def with_query(endpoint: str, params: dict[str, str]) -> str:
    """``endpoint`` with ``params`` appended, keeping any query it already has."""
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


def registered_uri(request: HttpRequest, setting: str) -> str:
    """A URI registered with ScotAccount: the setting; derived from the request only in
    DEBUG (the Host header can be forged)."""
    configured: str | None = getattr(conf, setting)
    if configured:
        return configured
    if settings.DEBUG:
        return request.build_absolute_uri(reverse(REGISTERED_URIS[setting]))
    raise ConfigurationError(f"SCOTACCOUNT_{setting} must be set when DEBUG is off.")


def safe_next_url(request: HttpRequest, url: str | None) -> str | None:
    """``url`` if this site may send the browser there, else None.

    The one check for ``next``, made when it is stored and again when it is
    used: Django's ``url_has_allowed_host_and_scheme`` against this host only
    (and https when this request is), and no control or format characters (no
    real URL has them, and PostgreSQL cannot store a NUL) or overlong values.
    Unlike mozilla-django-oidc's ``get_next_url`` it reads no ``OIDC_*`` setting.
    """
    if (
        url
        and len(url) <= MAX_NEXT_LENGTH
        and url.isprintable()
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return None


def login_url(explicit: str | None = None) -> str:
    """Where people sign in: ``explicit``, else the project's ``LOGIN_URL``, else ours.

    Django always has a ``LOGIN_URL`` (``/accounts/login/``); only one the
    project set itself counts, so a council's "choose how to sign in" page is
    honoured and a project without one still gets ScotAccount's login.
    """
    own: str | None = None
    if settings.is_overridden("LOGIN_URL"):  # type: ignore[misc]  # missing from the stubs
        own = getattr(settings, "LOGIN_URL", None)
    chosen = explicit or own
    return resolve_url(chosen) if chosen else reverse("scotaccount:login")


def redirect_to_sign_in(request: HttpRequest, explicit: str | None = None) -> HttpResponseRedirect:
    """Send a signed-out person to sign in, coming back to this page afterwards."""
    return redirect_to_login(request.get_full_path(), login_url(explicit))


def sign_in_url(next_url: str = "", *, project_login: bool = False) -> str:
    """Our login URL, carrying ``next`` so that a retry comes back to the same page.

    ``project_login``: the project's ``LOGIN_URL`` instead (see ``login_url``), for
    people starting afresh rather than retrying a ScotAccount sign-in.
    """
    url = login_url() if project_login else reverse("scotaccount:login")
    return with_query(url, {"next": next_url}) if next_url else url


def requested_next_url(request: HttpRequest) -> str:
    """The request's ``?next=`` if safe, else ""."""
    return safe_next_url(request, request.GET.get(auth.REDIRECT_FIELD_NAME)) or ""


def next_or_default(request: HttpRequest, url: str) -> str:
    """``url`` if it is (still) safe, else ``LOGIN_REDIRECT_URL``."""
    return safe_next_url(request, url) or resolve_url(settings.LOGIN_REDIRECT_URL)


def redirect_to_next(request: HttpRequest, url: str) -> HttpResponseRedirect:
    """To ``url`` if it is (still) safe, else to ``LOGIN_REDIRECT_URL``."""
    return HttpResponseRedirect(next_or_default(request, url))


def step_up_url(scopes: Iterable[str], next_url: str, *, retry: bool = False) -> str:
    """The ``scotaccount:attributes`` URL asking for ``scopes``, then back to ``next_url``."""
    params: list[tuple[str, str]] = [("scope", scope) for scope in scopes]
    params.append(("next", next_url))
    if retry:
        params.append(("retry", "1"))
    return f"{reverse('scotaccount:attributes')}?{urlencode(params)}"
