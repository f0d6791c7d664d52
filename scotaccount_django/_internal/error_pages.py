"""What a person is told when a flow fails, one page per cause; how an ended session is answered.
Never ScotAccount's ``error_description`` (markup, phishing text)."""

from __future__ import annotations

from typing import NamedTuple

from django.http import HttpRequest
from django.http.request import MediaType
from django.urls import Resolver404, resolve
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from scotaccount_django.exceptions import AuthorizationDenied, ScotAccountError


class ErrorPage(NamedTuple):
    status: int
    title: str | Promise
    message: str | Promise
    offer_retry: bool = True


_CANCELLED = ErrorPage(
    200,
    _("You did not finish signing in"),
    _("You cancelled signing in with ScotAccount. You can try again whenever you are ready."),
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
)
_PROVIDER_FAULT = ErrorPage(
    502,
    _("Sign-in could not be completed"),
    _("ScotAccount gave an answer we could not use. Please try again in a few minutes."),
)
_EXPIRED = ErrorPage(
    400,
    _("This sign-in link has expired or was already used"),
    _("Please start signing in again."),
)

#: ``error`` values meaning the person chose not to share (not a fault).
DECLINING_ERRORS = ("access_denied", "account_selection_required")

#: Our exception codes, and ScotAccount's documented ``error`` values (OAuth's among them),
#: -> the page that fits. Anything else gets the ``bad_request`` page.
PAGES: dict[str, ErrorPage] = {
    **dict.fromkeys(DECLINING_ERRORS, _CANCELLED),
    "temporarily_unavailable": _UNAVAILABLE,
    "server_error": _UNAVAILABLE,
    "invalid_request": _SETUP_PROBLEM,
    "invalid_scope": _SETUP_PROBLEM,
    "invalid_claims": _SETUP_PROBLEM,
    "invalid_dis_prompt": _SETUP_PROBLEM,
    "unsupported_response_type": _SETUP_PROBLEM,
    "unauthorized_client": _SETUP_PROBLEM,
    "configuration": _SETUP_PROBLEM,
    "provider_rejected_client": _SETUP_PROBLEM,
    "provider_unavailable": _UNAVAILABLE,
    "provider": _PROVIDER_FAULT,
    "invalid_token": _PROVIDER_FAULT,
    "invalid_id_token": _PROVIDER_FAULT,
    "unknown_flow": _EXPIRED,
    "flow_expired": _EXPIRED,
    "bad_request": ErrorPage(
        400,
        _("Sign-in could not be completed"),
        _("Something went wrong while signing you in. Please start again."),
    ),
    "storage": ErrorPage(
        503,
        _("Sign-in could not be completed"),
        _("Something went wrong on our side. Please try again in a few minutes."),
    ),
    "browser_mismatch": ErrorPage(
        403,
        _("Sign-in was started in a different browser"),
        _(
            "For your security, you must finish signing in in the same browser you "
            "started in. Please start again here."
        ),
    ),
    "subject_mismatch": ErrorPage(
        403,
        _("You signed in as a different person"),
        _(
            "You came back from ScotAccount signed in to a different account from the "
            "one that started this request, so nothing was saved. Please start again."
        ),
    ),
    "attributes_unavailable": ErrorPage(
        503,
        _("We could not get your details from ScotAccount"),
        _(
            "ScotAccount did not respond in time, so your details were not received. "
            "You are still signed in. Please try again in a few minutes."
        ),
    ),
    "invalid_claims_token": ErrorPage(
        502,
        _("We could not check your details"),
        _(
            "The details ScotAccount sent could not be checked, so nothing was saved. "
            "You are still signed in. Please try again later."
        ),
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
    ),
    "sign_in_refused": ErrorPage(
        403,
        _("You cannot sign in to this service"),
        _("Your ScotAccount is not allowed to use this service. Please contact us."),
        offer_retry=False,
    ),
}


def page_for(exc: ScotAccountError) -> ErrorPage:
    code = exc.error if isinstance(exc, AuthorizationDenied) else exc.code
    return PAGES.get(code, PAGES["bad_request"])


def wants_json(request: HttpRequest) -> bool:
    """True for XHR, or when the ``Accept`` type with the highest q (first wins) is JSON."""
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        return True
    # Django parses the header; the order is ours (Django 4.2 does not sort by q).
    best = max(request.accepted_types, key=_quality, default=MediaType(""))
    media_type = f"{best.main_type}/{best.sub_type}"
    return media_type == "application/json" or media_type.endswith("+json")


def _quality(media_type: MediaType) -> float:
    try:
        return float(media_type.params.get("q", 1))
    except ValueError:
        return 0.0


def is_scotaccount_view(request: HttpRequest) -> bool:
    """True when the request is for one of this app's own views (login, logout, ...)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return "scotaccount" in match.app_names
