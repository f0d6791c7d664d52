"""``SessionLifetimeMiddleware``: a ScotAccount session ends when ScotAccount's own does."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from scotaccount_django._internal import sessions, telemetry
from scotaccount_django._internal.error_pages import is_scotaccount_view, wants_json
from scotaccount_django._internal.flows import login_url
from scotaccount_django.attributes import values_read

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


class SessionLifetimeMiddleware:
    """End sessions past their lifetime, idle too long, or whose user was deactivated."""

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
        ended = self.check(request)
        if ended is not None:
            return ended
        reads: list[str] = []  # filled as the view reads verified attributes
        values_read.set(reads)
        return no_store_if_read(self.get_response(request), reads)  # type: ignore[arg-type]

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # Sessions and users are loaded through the ORM, which is sync only.
        ended = await sync_to_async(self.check, thread_sensitive=True)(request)
        if ended is not None:
            return ended
        reads: list[str] = []
        values_read.set(reads)
        return no_store_if_read(await self.get_response(request), reads)  # type: ignore[misc]

    def check(self, request: HttpRequest) -> HttpResponseBase | None:
        """End the session if it is over; a response to send instead of the view, or None."""
        if request.session.session_key is None:
            return None  # no session cookie: nothing to end, and nothing loaded
        reason = sessions.expiry_reason(request, time.time())
        if reason is None:
            return None
        setattr(request, sessions.ENDED, reason)
        sessions.end_local_session(request)
        telemetry.record_logout("session_expired")
        if is_scotaccount_view(request):
            # Our views cope with a signed-out person; a detour would loop a callback.
            return None
        return self.expired_response(request, reason)

    def expired_response(self, request: HttpRequest, reason: str) -> HttpResponseBase:
        """401 JSON for scripts, else the "you have been signed out" page."""
        response: HttpResponseBase
        if wants_json(request):
            body = {"error": "session_expired", "login_url": login_url()}
            response = JsonResponse(body, status=401)
        else:
            params = {"reason": reason}
            if request.method in ("GET", "HEAD"):
                # A POST cannot be replayed after sign-in: no way back to it.
                params["next"] = request.get_full_path()
            ended = reverse("scotaccount:session_ended")
            response = HttpResponseRedirect(f"{ended}?{urlencode(params)}")
        response["Cache-Control"] = "no-store"
        return response


def no_store_if_read(response: HttpResponseBase, reads: list[str]) -> HttpResponseBase:
    """A page that showed verified attributes must not be kept by any cache (L11)."""
    if reads:
        add_never_cache_headers(response)
    return response
