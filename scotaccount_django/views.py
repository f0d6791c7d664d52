"""Sign-in and step-up views: start a flow, and handle ScotAccount's redirect back.

Small class-based views with overridable ``login_success`` and
``login_failure``, after mozilla-django-oidc's. Their request and callback
views are not subclassed because both keep flow state in the session, which
cannot outlive ScotAccount's 7-day flows; ``_internal.flows`` keeps it in the
database instead.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.clickjacking import xframe_options_exempt
from mozilla_django_oidc.views import get_next_url

from scotaccount_django import signals
from scotaccount_django._internal import clock, session_keys, step_up
from scotaccount_django._internal.discovery import get_provider_metadata
from scotaccount_django._internal.error_pages import page_for
from scotaccount_django._internal.flows import SECRET_BYTES as STATE_BYTES
from scotaccount_django._internal.flows import consume_flow, start_flow
from scotaccount_django._internal.sid_sessions import end_local_session, end_sessions_for_sid
from scotaccount_django._internal.tokens import (
    IDTokenClaims,
    TokenSet,
    exchange_code,
    hash_secret,
    verify_id_token,
)
from scotaccount_django._internal.urls import redirect_to_sign_in, with_query
from scotaccount_django.attributes import (
    UnavailableAttributes,
    attribute_status,
    check_scopes,
    identity_for,
)
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    AuthorizationDenied,
    BadAttributeRequest,
    BadCallback,
    ConfigurationError,
    ProviderError,
    ScotAccountError,
    SignInRefused,
    StorageFailure,
    SubjectMismatch,
)
from scotaccount_django.models import (
    AttributeRequest,
    AttributeScope,
    AuthorizationFlow,
    ScotAccountIdentity,
)

logger = logging.getLogger("scotaccount_django")

#: Query parameters ScotAccount may send back; each may appear once at most.
CALLBACK_PARAMETERS = ("code", "state", "error", "error_description", "iss")
MAX_PARAMETER_LENGTH = 4096
#: ``error`` values meaning the person chose not to share (not a fault).
DECLINING_ERRORS = frozenset({"access_denied", "account_selection_required"})


def registered_uri(
    request: HttpRequest, configured: str | None, *, url_name: str, setting: str
) -> str:
    """A URI registered with ScotAccount: the setting; derived from the request only in
    DEBUG (the Host header can be forged)."""
    if configured:
        return configured
    if settings.DEBUG:
        return request.build_absolute_uri(reverse(url_name))
    raise ConfigurationError(f"{setting} must be set when DEBUG is off.")


def redirect_uri_for(request: HttpRequest) -> str:
    """The fixed callback URI sent at authorize and token."""
    return registered_uri(
        request,
        conf.REDIRECT_URI,
        url_name="scotaccount:callback",
        setting="SCOTACCOUNT_REDIRECT_URI",
    )


def post_logout_redirect_uri_for(request: HttpRequest) -> str:
    """The fixed URI ScotAccount sends the browser back to after logout."""
    return registered_uri(
        request,
        conf.POST_LOGOUT_REDIRECT_URI,
        url_name="scotaccount:logged_out",
        setting="SCOTACCOUNT_POST_LOGOUT_REDIRECT_URI",
    )


def requested_next_url(request: HttpRequest) -> str:
    """The request's ``?next=`` if safe (mozilla-django-oidc's check), else "".

    Control and format characters are refused as well: no real URL has them, and
    a NUL byte cannot even be stored by PostgreSQL.
    """
    url = get_next_url(request, auth.REDIRECT_FIELD_NAME) or ""
    return url if url.isprintable() else ""


def safe_next_url(request: HttpRequest, url: str) -> str | None:
    """``url`` if it stays on this site (checked when stored and again when used)."""
    if (
        url
        and url.isprintable()
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return None


def error_response(
    request: HttpRequest,
    exc: ScotAccountError,
    *,
    retry_url: str | None = None,
    status: int | None = None,
) -> HttpResponse:
    """A page that fits the cause; technical detail goes to the log only.

    ``retry_url`` replaces the sign-in link; ``status`` replaces the page's own.
    """
    page = page_for(exc)
    logger.warning("ScotAccount flow failed [%s]: %s", exc.code, exc)
    context = {
        "title": page.title,
        "message": page.message,
        "error_code": exc.code,
        "retry_url": (retry_url or reverse("scotaccount:login")) if page.offer_retry else None,
    }
    return render(request, "scotaccount/error.html", context, status=status or page.status)


def step_up_url(scopes: Iterable[str], next_url: str, *, retry: bool = False) -> str:
    """The ``scotaccount:attributes`` URL asking for ``scopes``, then back to ``next_url``."""
    params: list[tuple[str, str]] = [("scope", scope) for scope in scopes]
    params.append(("next", next_url))
    if retry:
        params.append(("retry", "1"))
    return f"{reverse('scotaccount:attributes')}?{urlencode(params)}"


def start_authorization(
    request: HttpRequest,
    *,
    purpose: str,
    scopes: list[str],
    next_url: str,
    initiating_sub: uuid.UUID | None = None,
) -> HttpResponse:
    """Record a flow and redirect the browser to ScotAccount, setting the flow cookie."""
    redirect_uri = redirect_uri_for(request)
    started = start_flow(
        request,
        metadata=get_provider_metadata(),
        purpose=purpose,
        scopes=scopes,
        redirect_uri=redirect_uri,
        next_url=next_url,
        initiating_sub=initiating_sub,
    )
    response = HttpResponseRedirect(started.authorization_url)
    response.set_cookie(
        conf.FLOW_COOKIE_NAME,
        started.browser_cookie,
        max_age=int(conf.FLOW_LIFETIME.total_seconds()),
        httponly=True,
        secure=redirect_uri.startswith("https://"),
        # Strict would drop the cookie on the top-level redirect back from ScotAccount.
        samesite="Lax",
    )
    return response


class LoginView(View):
    """Start signing in with ScotAccount; accepts a safe ``?next=``."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = requested_next_url(request)
        try:
            return start_authorization(
                request,
                purpose=AuthorizationFlow.Purpose.SIGN_IN,
                scopes=["openid"],
                next_url=next_url,
            )
        except ScotAccountError as exc:
            return error_response(request, exc)


class CallbackView(View):
    """Handle ScotAccount's redirect back, for sign-in and step-up flows alike."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.handle(request)
        except ScotAccountError as exc:
            response = self.login_failure(exc)
        except DatabaseError as exc:
            # The sign-in is in one transaction, so nothing is half-written.
            response = self.login_failure(StorageFailure(f"database error: {type(exc).__name__}"))
        # The URL carried a code: keep it out of caches and other sites' Referer.
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    #: The flow being completed, once ``state`` has matched one.
    flow: AuthorizationFlow | None = None
    #: The person this callback signed in, once it has.
    user: AbstractBaseUser | None = None

    def handle(self, request: HttpRequest) -> HttpResponse:
        params = read_query_parameters(request, CALLBACK_PARAMETERS)
        flow = self.flow = consume_flow(request, params.get("state"))
        if "error" in params:
            if "code" in params:
                raise BadCallback("the callback has both code and error")
            raise AuthorizationDenied(params["error"], params.get("error_description", ""))
        if "code" not in params:
            raise BadCallback("the callback has neither code nor error")
        metadata = get_provider_metadata()
        if "iss" in params and params["iss"] != metadata.issuer:
            raise ProviderError("the callback's iss is not our issuer (mix-up)")
        tokens = exchange_code(
            code=params["code"],
            code_verifier=flow.code_verifier,
            redirect_uri=flow.redirect_uri,
            metadata=metadata,
        )
        claims = verify_id_token(tokens.id_token, metadata=metadata, nonce_hash=flow.nonce_hash)
        if flow.initiating_sub is not None and claims.sub != flow.initiating_sub:
            raise SubjectMismatch("the step-up came back as a different person")
        with transaction.atomic():  # user, identity and session registry: all or nothing
            self.sign_in(claims, tokens, flow)
        return self.complete_flow(flow, tokens, claims) or self.login_success(flow)

    def sign_in(self, claims: IDTokenClaims, tokens: TokenSet, flow: AuthorizationFlow) -> None:
        """Log the person in (rotating the session key) and remember what logout needs."""
        request = self.request
        issuer = str(claims.claims["iss"])
        created = not ScotAccountIdentity.objects.filter(issuer=issuer, sub=claims.sub).exists()
        user = auth.authenticate(request, scotaccount_id_token=claims)
        if user is None:
            raise SignInRefused("the backend refused this person")
        signed_in_at = self.carried_over_sign_in_time(user, flow)
        key_before = request.session.session_key
        # Flushes the session when another person was signed in, and cycles the key
        # when nobody was; but it keeps the key when the same person signs in again
        # (a step-up), so cycle it here: a fixated key must never survive a sign-in.
        auth.login(request, user)
        if key_before is not None and request.session.session_key == key_before:
            request.session.cycle_key()
        request.session[session_keys.ID_TOKEN] = tokens.id_token
        request.session[session_keys.SID] = claims.sid
        request.session[session_keys.SUB] = str(claims.sub)
        request.session[session_keys.SIGNED_IN_AT] = signed_in_at or clock.now()
        self.user = user
        signals.signed_in.send(
            sender=type(self),
            request=request,
            user=user,
            identity=ScotAccountIdentity.objects.get(issuer=issuer, sub=claims.sub),
            created=created,
        )

    def carried_over_sign_in_time(
        self, user: AbstractBaseUser, flow: AuthorizationFlow
    ) -> float | None:
        """A step-up in a live session keeps the original sign-in time (no extension)."""
        request = self.request
        current = getattr(request, "user", None)
        if (
            flow.purpose != AuthorizationFlow.Purpose.SIGN_IN
            and current is not None
            and current.is_authenticated
            and current.pk == user.pk
        ):
            value = request.session.get(session_keys.SIGNED_IN_AT)
            return float(value) if isinstance(value, int | float) else None
        return None

    def complete_flow(
        self, flow: AuthorizationFlow, tokens: TokenSet, claims: IDTokenClaims
    ) -> HttpResponse | None:
        """Purpose-specific work after sign-in: a step-up stores the attributes."""
        if flow.purpose != AuthorizationFlow.Purpose.ATTRIBUTES:
            return None
        identity = ScotAccountIdentity.objects.get(
            issuer=str(claims.claims["iss"]), sub=claims.sub
        )
        record = step_up.receive_attributes(flow, tokens, identity)
        self.attributes_received(identity, record)
        return self.login_success(flow)

    def attributes_received(self, identity: ScotAccountIdentity, record: AttributeRequest) -> None:
        signals.attributes_received.send(
            sender=type(self),
            request=self.request,
            user=identity.user,
            identity=identity,
            received=list(record.received_scopes),
            missing=list(record.missing_scopes),
        )

    def login_success(self, flow: AuthorizationFlow) -> HttpResponse:
        next_url = safe_next_url(self.request, flow.next_url)
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))

    def login_failure(self, exc: ScotAccountError) -> HttpResponse:
        flow = self.flow
        if flow is None or flow.purpose != AuthorizationFlow.Purpose.ATTRIBUTES:
            return error_response(self.request, exc)
        if isinstance(exc, AuthorizationDenied) and exc.error in DECLINING_ERRORS:
            return self.step_up_declined(flow, exc)
        retry_url = step_up_url(step_up.requested_scopes(flow), flow.next_url)
        # Django does not save the session on a 5xx answer, which would sign out
        # the person this callback just signed in; they must stay signed in.
        status = 200 if self.user is not None else None
        return error_response(self.request, exc, retry_url=retry_url, status=status)

    def step_up_declined(self, flow: AuthorizationFlow, exc: AuthorizationDenied) -> HttpResponse:
        """The person cancelled a step-up: record the refusal and go back, never round again."""
        identity = identity_for(self.request.user)
        if identity is None or identity.sub != flow.initiating_sub:
            # Not (or no longer) signed in as the person who asked: record nothing.
            return error_response(self.request, exc)
        logger.info("Step-up declined at ScotAccount [%s]", exc.error)
        declined = step_up.record_unanswered(
            flow,
            identity,
            step_up.requested_scopes(flow),
            reason=AttributeRequest.Reason.DECLINED.value,
            status=AttributeRequest.Status.COMPLETED,
        )
        self.attributes_received(identity, declined)
        return self.login_success(flow)


class AttributesView(View):
    """Step-up: obtain the verified attributes a person is still missing, then go to ``next``.

    Query: ``scope`` (repeatable; ``scotaccount.gpg45.medium``,
    ``scotaccount.address``, ``scotaccount.email``), ``next`` (a safe local
    URL), ``retry=1`` (a deliberate retry: scopes the person declined or that
    were not available are asked for again). Only missing scopes are requested.
    """

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_sign_in(request)
        next_url = requested_next_url(request)
        try:
            scopes = self.wanted_scopes(request)
            identity = identity_for(request.user)
            if identity is None:
                # Signed in some other way: sign in with ScotAccount first, then come back.
                # Not LOGIN_URL: that page may offer other ways in, which would not help.
                return redirect_to_login(request.get_full_path(), reverse("scotaccount:login"))
            retry = request.GET.get("retry") == "1"
            missing = attribute_status(request.user, scopes, retry=retry).missing
            if not missing:
                return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
            return start_authorization(
                request,
                purpose=AuthorizationFlow.Purpose.ATTRIBUTES,
                scopes=["openid", *missing],
                next_url=next_url,
                initiating_sub=identity.sub,
            )
        except ScotAccountError as exc:
            return error_response(request, exc, retry_url=request.get_full_path())

    def wanted_scopes(self, request: HttpRequest) -> list[str]:
        try:
            scopes = check_scopes(request.GET.getlist("scope"))
        except ValueError as exc:
            raise BadAttributeRequest(str(exc)) from exc
        if not scopes:
            raise BadAttributeRequest("no scope was asked for")
        return scopes


def read_query_parameters(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    """The named query parameters, refusing duplicates and oversized values."""
    params: dict[str, str] = {}
    for name in names:
        values: list[Any] = request.GET.getlist(name)
        if len(values) > 1:
            raise BadCallback(f"the query repeats {name}")
        if values:
            if len(values[0]) > MAX_PARAMETER_LENGTH:
                raise BadCallback(f"the query's {name} is too long")
            params[name] = values[0]
    return params


def attributes_unavailable(
    request: HttpRequest, unavailable: UnavailableAttributes
) -> HttpResponse:
    """The default page when a required attribute could not be obtained: no loop, a retry link."""
    reasons = [
        (AttributeScope(scope).label, AttributeRequest.Reason(reason).label)
        for scope, reason in unavailable.reasons.items()
    ]
    context = {"reasons": reasons, "retry_url": unavailable.retry_url}
    return render(request, "scotaccount/attributes_unavailable.html", context)


def signed_out_response(
    request: HttpRequest, *, scotaccount_unreachable: bool = False
) -> HttpResponse:
    """The council's ``LOGOUT_REDIRECT_URL``, or the "you have signed out" page.

    A person who may still be signed in to ScotAccount is always shown the page.
    """
    # cast: django-stubs types the setting from the settings module mypy ran with.
    redirect_to = cast("str | None", settings.LOGOUT_REDIRECT_URL)
    if redirect_to and not scotaccount_unreachable:
        return HttpResponseRedirect(resolve_url(redirect_to))
    context = {"scotaccount_unreachable": scotaccount_unreachable}
    return render(request, "scotaccount/logged_out.html", context)


class LogoutView(View):
    """Sign out here, then at ScotAccount. POST with CSRF; GET only asks to confirm.

    A GET that signed people out could be triggered by any page that embeds an
    image pointing here, so GET just shows a form that POSTs.
    """

    http_method_names = ["get", "post"]
    template_name = "scotaccount/logout_confirm.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name)

    def post(self, request: HttpRequest) -> HttpResponse:
        id_token = request.session.get(session_keys.ID_TOKEN)
        user = request.user if request.user.is_authenticated else None
        # Local session first: whatever happens at ScotAccount, this browser is
        # signed out here, and a stolen session cookie stops working now.
        end_local_session(request)
        signals.signed_out.send(sender=type(self), request=request, user=user)
        logger.info("Signed out user %s", getattr(user, "pk", None))
        if not isinstance(id_token, str) or not id_token:
            # No ScotAccount session to end (expired here, or not a ScotAccount sign-in).
            return self.logout_success()
        try:
            response = HttpResponseRedirect(self.end_session_url(id_token))
        except ScotAccountError as exc:
            return self.logout_failure(exc)
        # The Location carries the ID token: keep it out of every cache.
        response["Cache-Control"] = "no-store"
        return response

    def end_session_url(self, id_token: str) -> str:
        """ScotAccount's ``end_session_endpoint`` with exactly the three documented parameters."""
        metadata = get_provider_metadata()
        if not metadata.end_session_endpoint:
            raise ProviderError("discovery has no end_session_endpoint")
        params = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": post_logout_redirect_uri_for(self.request),
            "state": secrets.token_urlsafe(STATE_BYTES),
        }
        # The old session is gone; the state hash goes into the new, empty one
        # that flush() started. Rather than a signed cookie: it stays server-side,
        # is bound to this browser by the session cookie, and is consumed on
        # return, so a captured logout return cannot be replayed.
        self.request.session[session_keys.LOGOUT_STATE_HASH] = hash_secret(params["state"])
        return with_query(metadata.end_session_endpoint, params)

    def logout_success(self) -> HttpResponse:
        return signed_out_response(self.request)

    def logout_failure(self, exc: ScotAccountError) -> HttpResponse:
        """Signed out here only: say that ScotAccount could not be reached."""
        logger.warning("Signed out locally; ScotAccount logout skipped [%s]: %s", exc.code, exc)
        return signed_out_response(self.request, scotaccount_unreachable=True)


class LoggedOutView(View):
    """Where ScotAccount sends the browser after logout (``post_logout_redirect_uri``).

    Without this browser's ``state`` the visit did not come from our logout: it
    changes nothing, redirects nowhere, and does not tell a signed-in person
    they have signed out (a link could otherwise trick someone into leaving a
    shared computer signed in).
    """

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        expected = request.session.get(session_keys.LOGOUT_STATE_HASH)
        try:
            state = read_query_parameters(request, ("state",)).get("state", "")
        except BadCallback:
            state = ""
        if not (
            isinstance(expected, str)
            and state
            and hmac.compare_digest(hash_secret(state), expected)
        ):
            return self.state_mismatch()
        del request.session[session_keys.LOGOUT_STATE_HASH]
        return self.logout_success()

    def logout_success(self) -> HttpResponse:
        return signed_out_response(self.request)

    def state_mismatch(self) -> HttpResponse:
        logger.info("Logout return without this browser's logout state: ignored")
        if self.request.user.is_authenticated:
            return render(self.request, LogoutView.template_name, {"still_signed_in": True})
        return render(self.request, "scotaccount/logged_out.html")


@method_decorator(xframe_options_exempt, name="dispatch")
class FrontChannelLogoutView(View):
    """OIDC Front-Channel Logout 1.0: ScotAccount loads this in an iframe with ``iss`` and ``sid``.

    It ends only the local sessions that the sign-in with that ``sid`` created,
    and does nothing else, so it needs no CSRF token: the ``sid`` is a random
    value only ScotAccount and this site know (it travels in the ID token). Every
    answer is the same tiny page, so it reveals nothing about which sids exist.
    """

    http_method_names = ["get"]
    template_name = "scotaccount/frontchannel_logout.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            params = read_query_parameters(request, ("iss", "sid"))
        except BadCallback:
            params = {}
        issuer, sid = params.get("iss"), params.get("sid")
        if issuer and sid and issuer == conf.ISSUER:
            self.end_sessions(issuer, sid)
        else:
            logger.info("Front-channel logout ignored: iss or sid missing, or not our issuer")
        response = render(request, self.template_name)
        response["Cache-Control"] = "no-store"
        return response

    def end_sessions(self, issuer: str, sid: str) -> None:
        ended = end_sessions_for_sid(issuer, sid)
        request = self.request
        if request.session.session_key in {row.session_key for row in ended}:
            # Already deleted from the store; flush so it is not saved back.
            auth.logout(request)
        for row in ended:
            signals.signed_out.send(sender=type(self), request=request, user=row.user)
        logger.info("Front-channel logout ended %d session(s)", len(ended))
