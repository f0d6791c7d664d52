"""Building URLs: ScotAccount's endpoints with a query, and the project's sign-in page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse


def with_query(endpoint: str, params: dict[str, str]) -> str:
    """``endpoint`` with ``params`` appended, keeping any query it already has."""
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


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
