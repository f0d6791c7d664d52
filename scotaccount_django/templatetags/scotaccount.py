"""``{% load scotaccount %}``: second-person labels for scope names and reason codes."""

from __future__ import annotations

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from scotaccount_django.models import AttributeRequest, AttributeScope

register = template.Library()

SCOPE_LABELS: dict[str, str | Promise] = {
    AttributeScope.IDENTITY: _("Your name and date of birth, from your identity check"),
    AttributeScope.ADDRESS: _("Your address"),
    AttributeScope.EMAIL: _("Your email address"),
}
REASON_LABELS: dict[str, str | Promise] = {
    AttributeRequest.Reason.DECLINED: _("you chose not to share it"),
    AttributeRequest.Reason.NOT_AVAILABLE: _("ScotAccount does not hold it for you"),
    AttributeRequest.Reason.VERIFICATION_FAILED: _("ScotAccount could not check it"),
    AttributeRequest.Reason.ERROR: _("something went wrong while getting it"),
}


@register.filter
def scotaccount_scope_label(scope: str) -> str | Promise:
    """``{{ "scotaccount.address"|scotaccount_scope_label }}`` -> "Your address"."""
    return SCOPE_LABELS.get(scope, _("Details from ScotAccount"))


@register.filter
def scotaccount_reason_label(reason: str) -> str | Promise:
    """``{{ "declined"|scotaccount_reason_label }}`` -> "you chose not to share it"."""
    return REASON_LABELS.get(reason, _("we could not get it"))
