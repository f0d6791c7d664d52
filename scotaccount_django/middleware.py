"""``SessionLifetimeMiddleware``: a ScotAccount session ends when ScotAccount's own does.

ScotAccount sessions last 4 hours. The clock starts at the server-side sign-in
time the callback stores (never a value the browser sends) and is not reset by
activity or by a step-up, so constant activity cannot keep a stolen session
alive. It is checked on every request method, not just GET. A deactivated or
deleted user's session is flushed, not merely ignored.

Per-request cost: nothing until the request reads its session. The check runs
when the session is first loaded (by the view, ``request.user``, or anything
else), so a page that touches neither session nor user pays no query for it;
when it does run it reads only what the session already holds. The idle
timestamp is written at most once a minute so that sessions are not saved on
every request. (The async stack checks up front: the ORM is sync-only there.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any, cast
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.contrib.auth import SESSION_KEY, get_user
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject

from scotaccount_django import signals
from scotaccount_django._internal import sessions, telemetry
from scotaccount_django._internal.redirects import login_url
from scotaccount_django.attributes import values_read
from scotaccount_django.conf import conf

logger = logging.getLogger("scotaccount_django")

#: The idle timestamp is rewritten only when it is at least this old (seconds).
ACTIVITY_RESOLUTION = 60.0
#: Request attribute: why the lazy check ended this request's session, if it did.
ENDED = "_scotaccount_session_ended"

GetResponse = (
    Callable[[HttpRequest], HttpResponseBase]
    | Callable[[HttpRequest], Awaitable[HttpResponseBase]]
)


class SessionLifetimeMiddleware:
    """End sessions past ``SCOTACCOUNT_SESSION_LIFETIME`` or idle past the idle timeout."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        reads = track_value_reads()
        session = request.session
        if session.session_key is None and not hasattr(session, "_session_cache"):
            # No session cookie: nothing to end.
            return no_store_if_read(self.get_response(request), reads)  # type: ignore[arg-type]
        if hasattr(session, "_session_cache"):
            # Already loaded by an earlier middleware: nothing left to save by waiting.
            response = self.check(request)
            if response is not None:
                return response
        else:
            _check_when_loaded(request, self)
        _check_user_when_read(request, self)
        answer = cast(HttpResponseBase, self.get_response(request))  # a sync stack
        reason = getattr(request, ENDED, None)
        if reason and not is_scotaccount_view(request):
            # The view saw a signed-out request; the person is told, and may sign in again.
            return self.expired_response(request, reason)
        return no_store_if_read(answer, reads)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # Sessions and users are loaded through the ORM, which is sync only.
        response = await sync_to_async(self.check, thread_sensitive=True)(request)
        if response is not None:
            return response
        reads = track_value_reads()
        return no_store_if_read(await self.get_response(request), reads)  # type: ignore[misc]

    def check(self, request: HttpRequest) -> HttpResponseBase | None:
        """End the session if it is over; a response to send instead of the view, or None."""
        reason = expiry_reason(request, time.time())
        if reason is None:
            return None
        user = request.user if request.user.is_authenticated else None
        self.end(request, reason, user)
        if is_scotaccount_view(request):
            # Our own views cope with a signed-out person; sending a logout or a
            # callback to the login page instead would be a detour or a loop.
            return None
        return self.expired_response(request, reason)

    def end(self, request: HttpRequest, reason: str, user: AbstractBaseUser | None) -> None:
        """Sign the person out here, and say so (log and ``session_expired``)."""
        logger.info(
            "Session ended by SessionLifetimeMiddleware [%s] for user %s",
            reason,
            getattr(user, "pk", None),
        )
        # ``logout`` reads ``request.user``: give it the user, never a lazy check again.
        request.user = user or AnonymousUser()  # type: ignore[assignment]
        sessions.end_local_session(request)
        telemetry.record_logout("session_expired")
        setattr(request, ENDED, reason)
        signals.session_expired.send_robust(
            sender=type(self), request=request, user=user, reason=reason
        )

    def expired_response(self, request: HttpRequest, reason: str) -> HttpResponseBase:
        """401 JSON for scripts; otherwise the "you have been signed out" page, which says
        why and links to sign in again (back to this page, for page GETs only)."""
        sign_in_url = login_url()
        response: HttpResponseBase
        if wants_json(request):
            body = {"error": "session_expired", "login_url": sign_in_url}
            response = JsonResponse(body, status=401)
        else:
            params = {"reason": reason}
            if request.method in ("GET", "HEAD"):
                # Replaying a POST after sign-in is not possible, and its form data is gone.
                params["next"] = request.get_full_path()
            ended = reverse("scotaccount:session_ended")
            response = HttpResponseRedirect(f"{ended}?{urlencode(params)}")
        response["Cache-Control"] = "no-store"
        return response


def track_value_reads() -> list[str]:
    """Start recording this request's attribute reads; the list fills as values are read."""
    reads: list[str] = []
    values_read.set(reads)
    return reads


def no_store_if_read(response: HttpResponseBase, reads: list[str]) -> HttpResponseBase:
    """A page that showed verified attributes must not be kept by any cache (L11)."""
    if reads:
        add_never_cache_headers(response)
    return response


def expiry_reason(request: HttpRequest, now: float) -> str | None:
    """Why this request's session must end (``lifetime``, ``idle``, ``inactive_user``), or None."""
    if not is_managed(request.session):
        return None
    if not request.user.is_authenticated:
        # The backend refused the session's user: deactivated or deleted.
        return "inactive_user"
    return time_expiry(request.session, now)


def is_managed(session: SessionBase) -> bool:
    """A ScotAccount session, or any signed-in one when asked to manage them all."""
    if session.get(sessions.SIGNED_IN_AT) is not None:
        return True
    return conf.SESSION_LIFETIME_FOR_ALL_USERS and SESSION_KEY in session


def time_expiry(session: SessionBase, now: float) -> str | None:
    """``lifetime`` or ``idle`` if a managed session is over; records activity otherwise."""
    started = session.get(sessions.SIGNED_IN_AT)
    if started is None:
        started = session.setdefault(sessions.FIRST_SEEN, now)
    started = float(started)
    if now - started >= conf.SESSION_LIFETIME.total_seconds():
        return "lifetime"
    idle_timeout = conf.SESSION_IDLE_TIMEOUT
    if idle_timeout is not None:
        last_activity = float(session.get(sessions.LAST_ACTIVITY, started))
        if now - last_activity >= idle_timeout.total_seconds():
            return "idle"
        if now - last_activity >= ACTIVITY_RESOLUTION:
            session[sessions.LAST_ACTIVITY] = now
    return None


# The lazy check (sync stack) ---------------------------------------------------------------
#
# Django loads a session on first access. Rather than load it on every request to
# check it, the session object gets a subclass of its own engine's class whose
# loader runs the lifetime check right after loading, once. It is a subclass of
# whatever SESSION_ENGINE is configured, so every engine keeps working.


def _check_when_loaded(request: HttpRequest, middleware: SessionLifetimeMiddleware) -> None:
    session = request.session
    store = type(session)
    session._scotaccount_pending = (request, middleware)  # type: ignore[attr-defined]
    session.__class__ = _checked_class(store)


@cache
def _checked_class(store: type[SessionBase]) -> type[SessionBase]:
    def _get_session(self: Any, no_load: bool = False) -> Any:
        # Runs once: the session goes back to its engine's class, loads, is checked.
        self.__class__ = store
        request, middleware = self.__dict__.pop("_scotaccount_pending")
        data = self._get_session(no_load)
        reason = time_expiry(self, time.time()) if is_managed(self) else None
        if reason is None:
            return data
        middleware.end(request, reason, _user(request))
        return self._session_cache

    members = {
        "_get_session": _get_session,
        "_session": property(_get_session),  # the base class's property binds its own loader
        "__module__": __name__,
    }
    return type(store.__name__, (store,), members)


def _user(request: HttpRequest) -> AbstractBaseUser | None:
    """The signed-in user, for the log and the signal (only when a session is ending)."""
    user = get_user(request)
    return user if user.is_authenticated else None


def _check_user_when_read(request: HttpRequest, middleware: SessionLifetimeMiddleware) -> None:
    """Wrap ``request.user``: a managed session whose user the backend refuses is ended."""
    original = request.user

    def checked() -> Any:
        if original.is_authenticated:
            # The user itself, not Django's lazy object around it: one proxy, not two.
            return getattr(original, "_wrapped", original)
        if is_managed(request.session):
            # The backend refused the session's user: deactivated or deleted.
            middleware.end(request, "inactive_user", None)
            return request.user
        return original

    request.user = SimpleLazyObject(checked)  # type: ignore[assignment]


def wants_json(request: HttpRequest) -> bool:
    """True for XHR, or when the ``Accept`` type with the highest q (first wins) is JSON."""
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        return True
    best, best_quality = "", -1.0
    for item in request.headers.get("accept", "").split(","):
        media_type, *params = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type and quality > best_quality:
            best, best_quality = media_type, quality
    return best == "application/json" or best.endswith("+json")


def is_scotaccount_view(request: HttpRequest) -> bool:
    """True when the request is for one of this app's own views (login, logout, ...)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return "scotaccount" in match.app_names
