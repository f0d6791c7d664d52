"""Views that need verified attributes: ``@verified_attributes_required``, and a mixin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.cache import add_never_cache_headers

from scotaccount_django._internal.flows import redirect_to_sign_in, step_up_url
from scotaccount_django.attributes import UnavailableAttributes, attribute_status, check_scopes
from scotaccount_django.models import AttributeRequest
from scotaccount_django.templatetags.scotaccount import (
    scotaccount_reason_label,
    scotaccount_scope_label,
)

#: ``handler(request, unavailable)``: answers when attributes could not be obtained.
UnavailableHandler = Callable[[HttpRequest, UnavailableAttributes], HttpResponse]
ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def verified_attributes_response(
    request: HttpRequest,
    scopes: Sequence[str],
    *,
    unavailable: UnavailableHandler | None = None,
    login_url: str | None = None,
) -> HttpResponse | None:
    """None when the signed-in person holds every scope, else the response to send
    (the decorator's check inline, for async views: docs/asgi.md)."""
    if not request.user.is_authenticated:
        return redirect_to_sign_in(request, login_url)
    status = attribute_status(request.user, scopes)
    here = request.get_full_path()
    if status.missing:
        return HttpResponseRedirect(step_up_url(scopes, here))
    if status.unavailable:
        handler = unavailable or attributes_unavailable
        retry_url = step_up_url(list(status.unavailable), here, retry=True)
        return handler(request, UnavailableAttributes(status.unavailable, retry_url))
    return None


class AttributesUnavailablePage:
    """The built-in "unavailable" handler: the reasons; a retry link only where one can help."""

    template_name = "scotaccount/attributes_unavailable.html"

    def __call__(self, request: HttpRequest, unavailable: UnavailableAttributes) -> HttpResponse:
        reasons = [
            (scotaccount_scope_label(scope), scotaccount_reason_label(reason))
            for scope, reason in unavailable.reasons.items()
        ]
        # Only a person who declined can change the answer by retrying: ScotAccount gives
        # the same "not held" or "could not check" however often it is asked (issue 21);
        # for those, the help says what the person can do at ScotAccount instead.
        given, reason = set(unavailable.reasons.values()), AttributeRequest.Reason
        context = {
            "reasons": reasons,
            "retry_url": unavailable.retry_url if reason.DECLINED in given else None,
            "not_held": reason.NOT_AVAILABLE in given,
            "not_checked": reason.VERIFICATION_FAILED in given,
            "continue_url": resolve_url(settings.LOGIN_REDIRECT_URL),
        }
        return render(request, self.template_name, context)


attributes_unavailable = AttributesUnavailablePage()


def verified_attributes_required(
    *scopes: str, unavailable: UnavailableHandler | None = None, login_url: str | None = None
) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a view that needs the verified attributes ``scopes`` (docs/attributes.md).

    ``login_url``: as for ``user_passes_test``; default ``LOGIN_URL``, else ``scotaccount:login``.
    """
    if not scopes or any(callable(scope) for scope in scopes):
        raise TypeError(
            'Name the scopes: @verified_attributes_required("scotaccount.address", ...)'
        )
    wanted = check_scopes(scopes)

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = verified_attributes_response(
                request, wanted, unavailable=unavailable, login_url=login_url
            )
            if response is not None:
                return response
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)  # the page relies on verified attributes (L11)
            return response

        return cast(ViewFunc, wrapper)

    return decorator


class VerifiedAttributesRequiredMixin:
    """The decorator for a class (put first in its bases): ``required_scopes``, and
    ``attributes_unavailable`` to override instead of passing ``unavailable``."""

    required_scopes: Sequence[str] = ()
    login_url: str | None = None

    def attributes_unavailable(
        self, request: HttpRequest, unavailable: UnavailableAttributes
    ) -> HttpResponse:
        return attributes_unavailable(request, unavailable)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.required_scopes:
            raise TypeError(f"{type(self).__name__}.required_scopes is empty.")
        decorate = verified_attributes_required(
            *self.required_scopes,
            unavailable=self.attributes_unavailable,
            login_url=self.login_url,
        )
        return decorate(super().dispatch)(request, *args, **kwargs)  # type: ignore[misc,no-any-return]
