"""``VerifiedAttributesRequiredMixin``: the class-based twin of the decorator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from scotaccount_django.attributes import UnavailableAttributes
from scotaccount_django.decorators import attributes_unavailable, verified_attributes_response


class VerifiedAttributesRequiredMixin:
    """Put first in the bases of a view that needs the verified attributes ``required_scopes``.

    Override ``attributes_unavailable`` to answer when one could not be
    obtained; by default it is the built-in page. ``login_url`` is where
    signed-out people go, as on Django's ``LoginRequiredMixin``; ``None``
    means ``LOGIN_URL`` if the project sets one, else ``scotaccount:login``.
    """

    required_scopes: Sequence[str] = ()
    login_url: str | None = None

    def get_required_scopes(self) -> Sequence[str]:
        if not self.required_scopes:
            raise TypeError(f"{type(self).__name__}.required_scopes is empty.")
        return self.required_scopes

    def attributes_unavailable(
        self, request: HttpRequest, unavailable: UnavailableAttributes
    ) -> HttpResponse:
        return attributes_unavailable(request, unavailable)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = verified_attributes_response(
            request,
            self.get_required_scopes(),
            unavailable=self.attributes_unavailable,
            login_url=self.login_url,
        )
        if response is not None:
            return response
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        add_never_cache_headers(response)  # the page relies on verified attributes (L11)
        return response  # type: ignore[no-any-return]
