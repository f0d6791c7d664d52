"""The words people read for verified-attribute scopes and for why one is missing.

Pages never show a scope name (``scotaccount.address``) or a reason code
(``not_available``): these labels, in the second person, are shown instead.
Templates reach them through the ``scotaccount`` tag library
(``{{ scope|scotaccount_scope_label }}``).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from scotaccount_django.models import AttributeRequest, AttributeScope

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
UNKNOWN_SCOPE = _("Details from ScotAccount")
UNKNOWN_REASON = _("we could not get it")


def scope_label(scope: str) -> str | Promise:
    """What a person calls the details ``scope`` stands for."""
    return SCOPE_LABELS.get(scope, UNKNOWN_SCOPE)


def reason_label(reason: str) -> str | Promise:
    """Why a detail is missing, as a person would say it (lower case, to follow a label)."""
    return REASON_LABELS.get(reason, UNKNOWN_REASON)
