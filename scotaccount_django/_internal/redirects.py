"""Every URL the browser is sent to or comes back with: ScotAccount's, ours and ``next``.

Outgoing: the authorization and end-session requests (with the registered
redirect URIs), and the step-up URL. Incoming: the query ScotAccount sends
back, read strictly, and the ``next`` a page asked to return to, checked when
stored and again when used.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from scotaccount_django._internal import statekit
from scotaccount_django._internal.provider import get_metadata
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import BadCallback, ConfigurationError, ProviderError

#: Query parameters ScotAccount may send back; each may appear once at most.
CALLBACK_PARAMETERS = ("code", "state", "error", "error_description", "iss")
MAX_PARAMETER_LENGTH = 4096
#: Longer ``next`` values are refused: no page of a site needs one.
MAX_NEXT_LENGTH = 2048


def with_query(endpoint: str, params: dict[str, str]) -> str:
    """``endpoint`` with ``params`` appended, keeping any query it already has."""
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


#: The URIs registered with ScotAccount: setting (without ``SCOTACCOUNT_``) -> our URL name.
REGISTERED_URIS = {
    "REDIRECT_URI": "scotaccount:callback",
    "POST_LOGOUT_REDIRECT_URI": "scotaccount:logged_out",
}


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


def authorization_url(
    endpoint: str, started: statekit.StartedFlow, *, scopes: list[str], redirect_uri: str
) -> str:
    """ScotAccount's authorization request for a flow just started."""
    params = {
        "client_id": conf.CLIENT_ID or "",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": started.state,
        "nonce": started.nonce,
        "code_challenge": started.code_challenge,
        "code_challenge_method": "S256",
    }
    return with_query(endpoint, params)


def start_authorization(
    request: HttpRequest,
    *,
    purpose: str,
    scopes: list[str],
    next_url: str,
    initiating_sub: uuid.UUID | None = None,
) -> HttpResponse:
    """Record a flow and redirect the browser to ScotAccount, setting the flow cookie."""
    redirect_uri = registered_uri(request, "REDIRECT_URI")
    metadata = get_metadata()
    started = statekit.start_flow(
        request,
        purpose=purpose,
        scopes=scopes,
        redirect_uri=redirect_uri,
        next_url=next_url,
        initiating_sub=initiating_sub,
    )
    url = authorization_url(
        metadata.authorization_endpoint, started, scopes=scopes, redirect_uri=redirect_uri
    )
    response = HttpResponseRedirect(url)
    secure = redirect_uri.startswith("https://")
    response.set_cookie(
        statekit.flow_cookie_name(secure=secure),
        started.browser_cookie,
        max_age=int(conf.FLOW_LIFETIME.total_seconds()),
        path="/",  # __Host- requires Path=/ and no Domain
        httponly=True,
        secure=secure,
        # Strict would drop the cookie on the top-level redirect back from ScotAccount.
        samesite="Lax",
    )
    return response


def end_session_url(request: HttpRequest, id_token: str) -> str:
    """ScotAccount's logout with exactly the three documented parameters.

    Call after the local session is flushed: the logout ``state`` goes into the
    new, empty session.
    """
    endpoint = end_session_endpoint()
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": registered_uri(request, "POST_LOGOUT_REDIRECT_URI"),
        "state": statekit.start_logout(request.session),
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
