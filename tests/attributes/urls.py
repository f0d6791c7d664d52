"""The test URLconf plus council-style pages that need verified attributes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View

from scotaccount_django import attributes
from scotaccount_django.attributes import UnavailableAttributes
from scotaccount_django.decorators import (
    VerifiedAttributesRequiredMixin,
    verified_attributes_required,
)
from tests.urls import urlpatterns as base_urlpatterns


def custom_unavailable(request: HttpRequest, unavailable: UnavailableAttributes) -> HttpResponse:
    return HttpResponse(f"custom: {sorted(unavailable.reasons.items())} {unavailable.retry_url}")


@verified_attributes_required("scotaccount.address")
def needs_address(request: HttpRequest) -> HttpResponse:
    return HttpResponse("address page")


@verified_attributes_required("scotaccount.address", unavailable=custom_unavailable)
def needs_address_custom(request: HttpRequest) -> HttpResponse:
    return HttpResponse("address page (custom)")


#: Every accessor a page may call, each taking only the user.
ACCESSORS = (
    attributes.verified_name,
    attributes.verified_birth_date,
    attributes.verified_email,
    attributes.verified_address,
    attributes.is_identity_verified,
    attributes.get_verified_attributes,
)
ALL = list(attributes.AttributeScope.values)


@verified_attributes_required(attributes.IDENTITY, attributes.ADDRESS, attributes.EMAIL)
def every_accessor(request: HttpRequest) -> HttpResponse:
    """A page reading every verified attribute, twice over (the query budget's page)."""
    values = [accessor(request.user) for accessor in ACCESSORS for _ in range(2)]
    return HttpResponse(f"{len(values)} values")


def every_accessor_unheld(request: HttpRequest) -> HttpResponse:
    """Every accessor and status question, twice, for scopes perhaps not held (no decorator)."""
    user = request.user
    for _ in range(2):
        for accessor in ACCESSORS:
            accessor(user)
        attributes.missing_scopes(user, ALL)
        attributes.unavailable_scopes(user, ALL)
    return HttpResponse("asked")


class NeedsIdentity(VerifiedAttributesRequiredMixin, View):
    required_scopes = ("scotaccount.gpg45.medium",)

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("identity page")


class NeedsIdentityOwnHandler(NeedsIdentity):
    def attributes_unavailable(
        self, request: HttpRequest, unavailable: UnavailableAttributes
    ) -> HttpResponse:
        return HttpResponse("mixin handler", status=409)


def shows_name(request: HttpRequest) -> HttpResponse:
    """A council page that reads an accessor without the decorator."""
    from scotaccount_django.attributes import verified_name

    name = verified_name(request.user)
    return HttpResponse(name.full_name if name else "no name")


def shows_nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse("nothing personal")


urlpatterns = [
    *base_urlpatterns,
    path("needs-address/", needs_address),
    path("needs-address-custom/", needs_address_custom),
    path("needs-identity/", NeedsIdentity.as_view()),
    path("every-accessor/", every_accessor),
    path("every-accessor-unheld/", every_accessor_unheld),
    path("needs-identity-own/", NeedsIdentityOwnHandler.as_view()),
    path("shows-name/", shows_name),
    path("shows-nothing/", shows_nothing),
]
