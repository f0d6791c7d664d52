"""What a person is told when a flow fails, one entry per cause.

Pages never show ScotAccount's ``error_description`` (it could carry markup or
be used for phishing text); the log gets the technical detail instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from scotaccount_django.exceptions import AuthorizationDenied, ScotAccountError


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str | Promise
    message: str | Promise
    offer_retry: bool


_CANCELLED = ErrorPage(
    200,
    _("You did not finish signing in"),
    _("You cancelled signing in with ScotAccount. You can try again whenever you are ready."),
    offer_retry=True,
)
_SETUP_PROBLEM = ErrorPage(
    502,
    _("There is a problem with this service's sign-in"),
    _(
        "ScotAccount could not accept this service's sign-in request. This is not your "
        "fault and trying again will not help. Please contact us."
    ),
    offer_retry=False,
)
_UNAVAILABLE = ErrorPage(
    503,
    _("ScotAccount is not available right now"),
    _("Sign-in could not be completed because ScotAccount did not respond. Please try again."),
    offer_retry=True,
)
_PROVIDER_FAULT = ErrorPage(
    502,
    _("Sign-in could not be completed"),
    _("ScotAccount gave an answer we could not use. Please try again in a few minutes."),
    offer_retry=True,
)
_EXPIRED = ErrorPage(
    400,
    _("This sign-in link has expired or was already used"),
    _("Please start signing in again."),
    offer_retry=True,
)
_NOT_COMPLETED = ErrorPage(
    400,
    _("Sign-in could not be completed"),
    _("Something went wrong while signing you in. Please start again."),
    offer_retry=True,
)

#: ScotAccount's documented ``error`` values (and OAuth's) -> the page that fits.
AUTHORIZATION_ERRORS: dict[str, ErrorPage] = {
    "access_denied": _CANCELLED,
    "account_selection_required": _CANCELLED,
    "temporarily_unavailable": _UNAVAILABLE,
    "server_error": _UNAVAILABLE,
    "invalid_request": _SETUP_PROBLEM,
    "invalid_scope": _SETUP_PROBLEM,
    "invalid_claims": _SETUP_PROBLEM,
    "invalid_dis_prompt": _SETUP_PROBLEM,
    "unsupported_response_type": _SETUP_PROBLEM,
    "unauthorized_client": _SETUP_PROBLEM,
}

#: ``error`` values meaning the person chose not to share (not a fault).
DECLINING_ERRORS = frozenset(e for e, page in AUTHORIZATION_ERRORS.items() if page is _CANCELLED)

#: Our exception codes -> page. Unlisted codes get ``_NOT_COMPLETED``.
ERRORS: dict[str, ErrorPage] = {
    "configuration": _SETUP_PROBLEM,
    "provider_rejected_client": _SETUP_PROBLEM,
    "provider_unavailable": _UNAVAILABLE,
    "storage": ErrorPage(
        503,
        _("Sign-in could not be completed"),
        _("Something went wrong on our side. Please try again in a few minutes."),
        offer_retry=True,
    ),
    "provider": _PROVIDER_FAULT,
    "invalid_token": _PROVIDER_FAULT,
    "invalid_id_token": _PROVIDER_FAULT,
    "unknown_flow": _EXPIRED,
    "flow_expired": _EXPIRED,
    "browser_mismatch": ErrorPage(
        403,
        _("Sign-in was started in a different browser"),
        _(
            "For your security, you must finish signing in in the same browser you "
            "started in. Please start again here."
        ),
        offer_retry=True,
    ),
    "subject_mismatch": ErrorPage(
        403,
        _("You signed in as a different person"),
        _(
            "You came back from ScotAccount signed in to a different account from the "
            "one that started this request, so nothing was saved. Please start again."
        ),
        offer_retry=True,
    ),
    "attributes_unavailable": ErrorPage(
        503,
        _("We could not get your details from ScotAccount"),
        _(
            "ScotAccount did not respond in time, so your details were not received. "
            "You are still signed in. Please try again in a few minutes."
        ),
        offer_retry=True,
    ),
    "invalid_claims_token": ErrorPage(
        502,
        _("We could not check your details"),
        _(
            "The details ScotAccount sent could not be checked, so nothing was saved. "
            "You are still signed in. Please try again later."
        ),
        offer_retry=True,
    ),
    "bad_attribute_request": ErrorPage(
        400,
        _("This page asked for details that do not exist"),
        _("This is not your fault. Please go back and try again, or contact us."),
        offer_retry=False,
    ),
    "invalid_session_id": ErrorPage(
        400,
        _("Your ScotAccount session has ended"),
        _(
            "ScotAccount could not find your session: it may have timed out or been ended "
            "somewhere else. Please sign in again."
        ),
        offer_retry=True,
    ),
    "sign_in_refused": ErrorPage(
        403,
        _("You cannot sign in to this service"),
        _("Your ScotAccount is not allowed to use this service. Please contact us."),
        offer_retry=False,
    ),
}


def page_for(exc: ScotAccountError) -> ErrorPage:
    if isinstance(exc, AuthorizationDenied):
        return AUTHORIZATION_ERRORS.get(exc.error, _NOT_COMPLETED)
    return ERRORS.get(exc.code, _NOT_COMPLETED)


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
