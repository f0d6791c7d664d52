"""A small council service: apply for a resident parking permit."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import TemplateView

from scotaccount_django import attributes
from scotaccount_django.decorators import (
    VerifiedAttributesRequiredMixin,
    verified_attributes_required,
)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "council/home.html")


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    identity = getattr(request.user, "scotaccount_identity", None)
    return render(request, "council/apply.html", {"identity": identity})


@verified_attributes_required(attributes.ADDRESS)
def permit(request: HttpRequest) -> HttpResponse:
    """Needs a verified address: the permit is for the address ScotAccount verified."""
    return render(
        request, "council/permit.html", {"address": attributes.verified_address(request.user)}
    )


class ConfirmIdentity(VerifiedAttributesRequiredMixin, TemplateView):
    """Needs identity verified to GPG45 medium, instead of a document check."""

    required_scopes = (attributes.IDENTITY,)
    template_name = "council/identity.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "name": attributes.verified_name(user),
            "birth_date": attributes.verified_birth_date(user),
        }


@login_required
def your_details(request: HttpRequest) -> HttpResponse:
    """What the council holds about the person, and when ScotAccount verified it."""
    scopes = [attributes.IDENTITY, attributes.ADDRESS, attributes.EMAIL]
    status = attributes.attribute_status(request.user, scopes)
    # Asking again helps only where the person declined; ScotAccount's "not held" or "could
    # not check" would come back the same.
    declined = [scope for scope, reason in status.unavailable.items() if reason == "declined"]
    context = {
        "status": status,
        "declined": declined,
        "email": attributes.verified_email(request.user),
    }
    return render(request, "council/your_details.html", context)
