"""``{% load scotaccount %}``: labels for people in place of scope names and reason codes."""

from __future__ import annotations

from django import template
from django.utils.functional import Promise

from scotaccount_django._internal import labels

register = template.Library()


@register.filter
def scotaccount_scope_label(scope: str) -> str | Promise:
    """``{{ "scotaccount.address"|scotaccount_scope_label }}`` -> "Your address"."""
    return labels.scope_label(scope)


@register.filter
def scotaccount_reason_label(reason: str) -> str | Promise:
    """``{{ "declined"|scotaccount_reason_label }}`` -> "you chose not to share it"."""
    return labels.reason_label(reason)
