"""Every flow's one-time secrets: made, sealed in the browser, consumed once; URLs in and out.

``docs/design.md`` ("Flows") says why flows live in sealed cookies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.db.models import TextChoices
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django._internal.provider import IDTokenClaims, TokenSet, get_metadata
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    BadCallback,
    BrowserMismatch,
    ConfigurationError,
    FlowExpired,
    ProviderError,
    UnknownFlow,
)

FLOW_COOKIE = "scotaccount_flow"
#: Pending flows a browser keeps per pool: started here (or typed), or from another site.
POOL_SIZES = {"site": 4, "cross": 1}
#: Separates the flow cookies' key from every other use of ``SECRET_KEY``.
SEAL_SALT = "scotaccount_django.flows.seal"
#: SHA-256 of the ``state`` sent with a logout; read (once) by the logged-out view.
LOGOUT_STATE_HASH = "_scotaccount_logout_state_hash"
#: Request attribute: the flow the callback is completing; read by the backend's hooks.
IN_PROGRESS = "_scotaccount_flow"
#: Query parameters ScotAccount may send back; each may appear once at most.
CALLBACK_PARAMETERS = ("code", "state", "error", "error_description", "iss")
#: Longer ``next`` values are refused: no page of a site needs one.
MAX_NEXT_LENGTH = 2048
REGISTERED_URIS = {
    "REDIRECT_URI": "scotaccount:callback",
    "POST_LOGOUT_REDIRECT_URI": "scotaccount:logged_out",
}


def hash_secret(value: str) -> str:
    """SHA-256 hex digest, for secrets we only ever compare."""
    return hashlib.sha256(value.encode()).hexdigest()


class Purpose(TextChoices):
    SIGN_IN = "sign_in", _("Sign in")
    ATTRIBUTES = "attributes", _("Verified attributes")


@dataclass(frozen=True)
class Flow:
    """One authorization request not yet answered, sealed in the browser, never stored (M1)."""

    state_hash: str
    nonce_hash: str
    code_verifier: str
    purpose: str
    scopes: tuple[str, ...]
    redirect_uri: str
    next_url: str
    initiating_sub: uuid.UUID | None
    #: The pk (as a string) of the user signed in when the flow started, or None.
    started_by_id: str | None
    pool: str  # a key of POOL_SIZES
    created: float
    expires: float

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created, tz=dt_timezone.utc)


def start_authorization(
    request: HttpRequest,
    *,
    purpose: str,
    scopes: list[str],
    next_url: str,
    initiating_sub: uuid.UUID | None = None,
) -> HttpResponse:
    """Redirect the browser to ScotAccount, with the flow sealed in a cookie of its own."""
    redirect_uri = registered_uri(request, "REDIRECT_URI")
    endpoint = get_metadata().authorization_endpoint
    secure = redirect_uri.startswith("https://")
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    # Code interception: PKCE S256; 64 characters, inside RFC 7636's 43..128.
    code_verifier = secrets.token_urlsafe(48)
    user = getattr(request, "user", None)
    # No Sec-Fetch-Site (an older browser) counts as started here.
    started_here = request.headers.get("Sec-Fetch-Site", "none") in ("same-origin", "none")
    now = time.time()
    flow = Flow(
        state_hash=hash_secret(state),
        nonce_hash=hash_secret(nonce),
        code_verifier=code_verifier,
        purpose=purpose,
        scopes=tuple(scopes),
        redirect_uri=redirect_uri,
        next_url=next_url,
        initiating_sub=initiating_sub,
        started_by_id=str(user.pk) if user is not None and user.is_authenticated else None,
        pool="site" if started_here else "cross",
        created=now,
        expires=now + conf.FLOW_LIFETIME.total_seconds(),
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
    response["Cache-Control"] = "no-store"  # M8: no shared cache may keep state or cookie
    # M1: a flow from another site can only evict the one other such flow.
    for name in _crowded_out(request, flow.pool, secure=secure):
        response.delete_cookie(name, path="/", samesite="Lax")
    response.set_cookie(
        cookie_name(flow.state_hash, secure=secure),
        seal(flow),
        max_age=int(conf.FLOW_LIFETIME.total_seconds()),
        path="/",  # __Host- requires Path=/ and no Domain
        httponly=True,
        secure=secure,
        # Strict would drop the cookie on the top-level redirect back from ScotAccount.
        samesite="Lax",
    )
    return response


def cookie_name(state_hash: str, *, secure: bool) -> str:
    """One cookie per flow (several tabs), named after its state's hash."""
    name = f"{FLOW_COOKIE}_{state_hash[:16]}"
    # L2: on https only this host can set a __Host- cookie (not a sibling subdomain).
    return f"__Host-{name}" if secure else name


def _crowded_out(request: HttpRequest, pool: str, *, secure: bool) -> list[str]:
    """The cookies to delete to make room in ``pool``: its oldest, and any that no longer open."""
    prefix = cookie_name("", secure=secure)
    pending: list[tuple[float, str]] = []
    dropped = []
    for name, value in request.COOKIES.items():
        if not name.startswith(prefix):
            continue
        flow = unseal(value)
        if flow is None or flow.expires <= time.time():
            dropped.append(name)
        elif flow.pool == pool:
            pending.append((flow.created, name))
    pending.sort()
    excess = max(len(pending) - POOL_SIZES[pool] + 1, 0)
    return dropped + [name for _, name in pending[:excess]]


def _fernet() -> MultiFernet:
    """Keys derived from ``SECRET_KEY`` and its fallbacks: a key rotation keeps pending flows."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    derived = [salted_hmac(SEAL_SALT, "", key, algorithm="sha256").digest() for key in keys]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in derived])


def seal(flow: Flow) -> str:
    """Compressed JSON, encrypted and authenticated (Fernet), unpadded base64."""
    plain = zlib.compress(json.dumps(asdict(flow), separators=(",", ":"), default=str).encode())
    return _fernet().encrypt(plain).decode().rstrip("=")


def unseal(value: str) -> Flow | None:
    """The flow, or None when the value was not sealed here (or is damaged)."""
    try:
        plain = _fernet().decrypt(value + "=" * (-len(value) % 4))
        fields = json.loads(zlib.decompress(plain))
        sub = fields["initiating_sub"]
        fields.update(scopes=tuple(fields["scopes"]), initiating_sub=sub and uuid.UUID(sub))
        return Flow(**fields)
    except (InvalidToken, ValueError, TypeError, KeyError, zlib.error):
        return None


@dataclass
class Completion:
    """A flow being completed, and what the backend's hooks learn on the way."""

    flow: Flow
    cookie: str
    tokens: TokenSet | None = None
    claims: IDTokenClaims | None = None


def consume(request: HttpRequest, state: str | None) -> Completion:
    """The flow ``state`` names, from this browser's cookie; usable once, even after an error."""
    if not state:
        raise UnknownFlow("the callback has no state")
    state_hash = hash_secret(state)
    secure = registered_uri(request, "REDIRECT_URI").startswith("https://")
    name = cookie_name(state_hash, secure=secure)
    spent = f"scotaccount:flow-spent:{state_hash}"
    cache = caches[conf.CACHE_ALIAS]
    value = request.COOKIES.get(name)
    if not value:  # login CSRF: a callback for a flow this browser did not start
        if cache.get(spent) is not None:
            raise UnknownFlow("the flow was consumed already")
        raise BrowserMismatch("no flow with this state in this browser")
    flow = unseal(value)
    if flow is None or not hmac.compare_digest(flow.state_hash, state_hash):
        raise BrowserMismatch("the flow cookie was not sealed here for this state")
    # Replay, double submission: only the request whose add wins may continue.
    if not cache.add(spent, 1, timeout=max(int(flow.expires - time.time()), 1)):
        raise UnknownFlow("the flow was consumed by another request")
    if flow.expires <= time.time():
        raise FlowExpired("the flow has expired")
    user = getattr(request, "user", None)
    signed_in = str(user.pk) if user is not None and user.is_authenticated else None
    # M2: a flow a signed-in user started ends when they sign out, by any route.
    if flow.started_by_id is not None and flow.started_by_id != signed_in:
        raise UnknownFlow("the user who started this flow has signed out")
    completion = Completion(flow, name)
    setattr(request, IN_PROGRESS, completion)
    return completion


def read_query_parameters(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    """The named query parameters, refusing duplicates and oversized values."""
    params: dict[str, str] = {}
    for name in names:
        values: list[Any] = request.GET.getlist(name)
        if len(values) > 1:
            raise BadCallback(f"the query repeats {name}")
        if values:
            if len(values[0]) > 4096:
                raise BadCallback(f"the query's {name} is too long")
            params[name] = values[0]
    return params


def end_session_url(request: HttpRequest, id_token: str) -> str:
    """ScotAccount's logout URL. Call after the session is flushed: the new session
    keeps the ``state``, usable once on return (a captured return cannot be replayed)."""
    endpoint = get_metadata().end_session_endpoint or conf.DOCUMENTED_END_SESSION_URL
    if not endpoint:
        raise ProviderError("no end_session_endpoint and no issuer")
    state = secrets.token_urlsafe(32)
    request.session[LOGOUT_STATE_HASH] = hash_secret(state)
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": registered_uri(request, "POST_LOGOUT_REDIRECT_URI"),
        "state": state,
    }
    return with_query(endpoint, params)


def consume_logout(session: SessionBase, state: str) -> bool:
    """True (once) when ``state`` is the one this session's logout sent."""
    if not hmac.compare_digest(hash_secret(state), session.get(LOGOUT_STATE_HASH, "")):
        return False
    del session[LOGOUT_STATE_HASH]
    return True


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
    """``url`` if this site may send the browser there (open redirects), else None.

    No control characters: no real URL has them, and PostgreSQL cannot store a NUL."""
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
    """Where people sign in: ``explicit``, else a ``LOGIN_URL`` the project set, else ours."""
    overridden = settings.is_overridden("LOGIN_URL")  # type: ignore[misc]  # not in the stubs
    # getattr: a deleted LOGIN_URL (e.g. by override_settings) counts as unset.
    chosen = explicit or (getattr(settings, "LOGIN_URL", None) if overridden else None)
    return resolve_url(chosen) if chosen else reverse("scotaccount:login")


def redirect_to_sign_in(request: HttpRequest, explicit: str | None = None) -> HttpResponseRedirect:
    """Send a signed-out person to sign in, coming back to this page afterwards."""
    return redirect_to_login(request.get_full_path(), login_url(explicit))


def sign_in_url(next_url: str = "", *, project_login: bool = False) -> str:
    """Our login URL (``project_login``: ``login_url()``), keeping ``next`` for a retry."""
    url = login_url() if project_login else reverse("scotaccount:login")
    return with_query(url, {"next": next_url}) if next_url else url


def requested_next_url(request: HttpRequest) -> str:
    """The request's ``?next=`` if safe, else ""."""
    return safe_next_url(request, request.GET.get(auth.REDIRECT_FIELD_NAME)) or ""


def next_or_default(request: HttpRequest, url: str) -> str:
    """``url`` if it is (still) safe, else ``LOGIN_REDIRECT_URL``."""
    return safe_next_url(request, url) or resolve_url(settings.LOGIN_REDIRECT_URL)


def step_up_url(scopes: Iterable[str], next_url: str, *, retry: bool = False) -> str:
    """The step-up URL asking for ``scopes``, then back to ``next_url``."""
    params: list[tuple[str, str]] = [("scope", scope) for scope in scopes]
    params.append(("next", next_url))
    if retry:
        params.append(("retry", "1"))
    return f"{reverse('scotaccount:attributes')}?{urlencode(params)}"
