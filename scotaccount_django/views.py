"""Sign-in, step-up and logout views, after mozilla-django-oidc's but not subclassed:
theirs keep flow state in the session, which cannot outlive ScotAccount's 7-day flows."""

from __future__ import annotations

import logging
from functools import partial
from typing import cast

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.clickjacking import xframe_options_exempt

from scotaccount_django import signals
from scotaccount_django._internal import flows, sessions, step_up, telemetry
from scotaccount_django._internal.error_pages import DECLINING_ERRORS, page_for
from scotaccount_django.attributes import attribute_status, check_scopes, identity_for
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    AuthorizationDenied,
    BadAttributeRequest,
    BadCallback,
    ScotAccountError,
    SignInRefused,
    StorageFailure,
    UnknownFlow,
)
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity
from scotaccount_django.reporting import scrubbed_before_reporting

logger = logging.getLogger("scotaccount_django")


class FlowView(View):
    """Base of the views that start or finish a flow; the only page they render is an error."""

    http_method_names = ["get"]
    template_name = "scotaccount/error.html"

    def error_response(
        self,
        exc: ScotAccountError,
        *,
        retry_url: str,
        continue_url: str | None = None,
        status: int | None = None,
    ) -> HttpResponse:
        """A page that fits the cause; technical detail goes to the log only."""
        page = page_for(exc)
        logger.warning("ScotAccount flow failed [%s]: %s", exc.code, exc)
        context = {
            "title": page.title,
            "message": page.message,
            "error_code": exc.code,
            "retry_url": retry_url if page.offer_retry else None,
            "retry_label": _("Try again") if continue_url else _("Try signing in again"),
            "continue_url": continue_url,
            "continue_label": _("Continue without sharing your details"),
        }
        return render(self.request, self.template_name, context, status=status or page.status)


class LoginView(FlowView):
    """Start signing in with ScotAccount; accepts a safe ``?next=``."""

    def get(self, request: HttpRequest) -> HttpResponse:
        telemetry.record_sign_in_started()
        next_url = flows.requested_next_url(request)
        try:
            return flows.start_authorization(
                request,
                purpose=flows.Purpose.SIGN_IN,
                scopes=["openid"],
                next_url=next_url,
            )
        except ScotAccountError as exc:
            telemetry.record_sign_in(exc)
            return self.error_response(exc, retry_url=flows.sign_in_url(next_url))


@method_decorator(scrubbed_before_reporting, name="dispatch")  # code, state (SECURITY M5)
class CallbackView(FlowView):
    """Handle ScotAccount's redirect back, for sign-in and step-up flows alike."""

    #: The flow being completed, once ``state`` has matched one.
    flow: flows.Flow | None = None
    #: The person this callback signed in, once it has.
    user: AbstractBaseUser | None = None

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.handle(request)
        except UnknownFlow as exc:
            if request.user.is_authenticated and "state" in request.GET:
                # Back or Refresh after signing in: nothing is exchanged, so carry on.
                logger.info("Callback with a used or unknown state while signed in: continuing")
                response = HttpResponseRedirect(flows.next_or_default(request, ""))
            else:
                response = self.login_failure(exc)
        except ScotAccountError as exc:
            response = self.login_failure(exc)
        except DatabaseError as exc:
            # The sign-in is in one transaction, so nothing is half-written.
            response = self.login_failure(StorageFailure(f"database error: {type(exc).__name__}"))
        completion: flows.Completion | None = getattr(request, flows.IN_PROGRESS, None)
        if completion is not None:  # spent: the browser need not keep it
            response.delete_cookie(completion.cookie, path="/", samesite="Lax")
        # The URL carried a code: keep it out of caches and other sites' Referer.
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    def handle(self, request: HttpRequest) -> HttpResponse:
        params = flows.read_query_parameters(request, flows.CALLBACK_PARAMETERS)
        completion = flows.consume(request, params.get("state"))
        flow = self.flow = completion.flow
        if "error" in params:
            if "code" in params:
                raise BadCallback("the callback has both code and error")
            raise AuthorizationDenied(params["error"])  # error_description is never shown
        if "code" not in params:
            raise BadCallback("the callback has neither code nor error")
        stepping_up = flow.purpose == flows.Purpose.ATTRIBUTES
        # User, identity, session and sid registry row: all or nothing.
        with transaction.atomic():
            # MDO reads code and state from the query; verify_token compares the nonce's hash.
            user = auth.authenticate(
                request, nonce=flow.nonce_hash, code_verifier=flow.code_verifier
            )
            tokens, claims = completion.tokens, completion.claims
            if user is None or tokens is None or claims is None:
                raise SignInRefused("the backend refused this person")
            sessions.start_session(
                request,
                user,
                id_token=tokens.id_token,
                claims=claims,
                step_up=stepping_up and request.user.pk == user.pk,
            )
            self.user = user
        if stepping_up:
            try:
                identity: ScotAccountIdentity = getattr(user, "scotaccount_identity")  # noqa: B009
            except ScotAccountIdentity.DoesNotExist as exc:
                raise SignInRefused("the backend's user has no ScotAccountIdentity") from exc
            record = step_up.receive_attributes(flow, tokens, identity)
            self.attributes_received(identity, record)
        return self.login_success(flow)

    def attributes_received(self, identity: ScotAccountIdentity, record: AttributeRequest) -> None:
        telemetry.record_attribute_request(record.received_scopes, record.missing_scopes)
        transaction.on_commit(
            partial(
                signals.attributes_received.send_robust,
                sender=type(self),
                request=self.request,
                user=identity.user,
                identity=identity,
                received=list(record.received_scopes),
                missing=list(record.missing_scopes),
                attribute_request=record,
            )
        )

    def login_success(self, flow: flows.Flow) -> HttpResponse:
        if flow.purpose == flows.Purpose.SIGN_IN:  # step-ups count per scope
            telemetry.record_sign_in(None)
        return HttpResponseRedirect(flows.next_or_default(self.request, flow.next_url))

    def login_failure(self, exc: ScotAccountError) -> HttpResponse:
        flow = self.flow
        sign_in_again = flows.sign_in_url(flow.next_url if flow is not None else "")
        if flow is None or flow.purpose != flows.Purpose.ATTRIBUTES:
            telemetry.record_sign_in(exc)
            return self.error_response(exc, retry_url=sign_in_again)
        if isinstance(exc, AuthorizationDenied) and exc.error in DECLINING_ERRORS:
            # Cancelled: record it (never asked again), but only for the person who asked.
            identity = identity_for(self.request.user)
            if identity is None or identity.sub != flow.initiating_sub:
                return self.error_response(exc, retry_url=sign_in_again)
            declined = step_up.record_unanswered(
                flow, identity, AttributeRequest.Reason.DECLINED.value
            )
            self.attributes_received(identity, declined)
            return self.login_success(flow)
        scopes = step_up.requested_scopes(flow)
        telemetry.record_step_up(scopes, "failed")
        return self.error_response(
            exc,
            retry_url=flows.step_up_url(scopes, flow.next_url),
            continue_url=flows.next_or_default(self.request, flow.next_url),
            # Django does not save the session on a 5xx: keep the person just signed in.
            status=200 if self.user is not None else None,
        )


@method_decorator(scrubbed_before_reporting, name="dispatch")  # SECURITY M5
class AttributesView(FlowView):
    """Step-up: ask for the ``scope``s a person still lacks (docs/attributes.md), then ``next``."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return flows.redirect_to_sign_in(request)
        next_url = flows.requested_next_url(request)
        try:
            try:
                scopes = check_scopes(request.GET.getlist("scope"))
            except ValueError as exc:
                raise BadAttributeRequest(str(exc)) from exc
            if not scopes:
                raise BadAttributeRequest("no scope was asked for")
            identity = identity_for(request.user)
            if identity is None:
                # Signed in some other way: ScotAccount first (not LOGIN_URL's other ways in).
                return redirect_to_login(request.get_full_path(), reverse("scotaccount:login"))
            retry = request.GET.get("retry") == "1"
            missing = attribute_status(request.user, scopes, retry=retry).missing
            if not missing:
                return HttpResponseRedirect(flows.next_or_default(request, next_url))
            return flows.start_authorization(
                request,
                purpose=flows.Purpose.ATTRIBUTES,
                scopes=["openid", *missing],
                next_url=next_url,
                initiating_sub=identity.sub,
            )
        except ScotAccountError as exc:
            return self.error_response(
                exc,
                retry_url=request.get_full_path(),
                continue_url=flows.next_or_default(request, next_url),
            )


def signed_out(
    request: HttpRequest,
    template_name: str,
    *,
    scotaccount_unreachable: bool = False,
    scotaccount_signed_out: bool = False,
) -> HttpResponse:
    """``LOGOUT_REDIRECT_URL``, or the page (always, if ScotAccount may still be signed in).

    The page says ScotAccount signed the person out only when ScotAccount's return proved it.
    """
    # cast: django-stubs types the setting from the settings module mypy ran with.
    redirect_to = cast("str | None", settings.LOGOUT_REDIRECT_URL)
    if redirect_to and not scotaccount_unreachable:
        return HttpResponseRedirect(resolve_url(redirect_to))
    context = {
        "scotaccount_unreachable": scotaccount_unreachable,
        "scotaccount_signed_out": scotaccount_signed_out,
    }
    return render(request, template_name, context)


class LogoutView(View):
    """Sign out here, then at ScotAccount. POST with CSRF; GET only asks to confirm
    (a GET that signed out could be triggered by any page's ``<img>``)."""

    http_method_names = ["get", "post"]
    template_name = "scotaccount/logout_confirm.html"
    logged_out_template_name = "scotaccount/logged_out.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        cancel_url = flows.next_or_default(request, request.GET.get(auth.REDIRECT_FIELD_NAME, ""))
        return render(request, self.template_name, {"cancel_url": cancel_url})

    def post(self, request: HttpRequest) -> HttpResponse:
        id_token = request.session.get(sessions.ID_TOKEN)
        # Local session first: a stolen cookie stops working now, whatever ScotAccount does.
        sessions.end_local_session(request)
        telemetry.record_logout("rp_initiated")
        if not isinstance(id_token, str) or not id_token:
            return signed_out(request, self.logged_out_template_name)
        try:
            response = HttpResponseRedirect(flows.end_session_url(request, id_token))
        except ScotAccountError as exc:
            logger.warning(
                "Signed out locally; ScotAccount logout skipped [%s]: %s", exc.code, exc
            )
            return signed_out(request, self.logged_out_template_name, scotaccount_unreachable=True)
        # The Location carries the ID token: keep it out of every cache.
        response["Cache-Control"] = "no-store"
        return response


class LoggedOutView(View):
    """Where ScotAccount sends the browser after logout (``post_logout_redirect_uri``).

    Without this browser's ``state`` it changes nothing and never tells a signed-in
    person they signed out (a link could trick them into leaving a shared computer).
    """

    http_method_names = ["get"]
    template_name = "scotaccount/logged_out.html"
    still_signed_in_template_name = "scotaccount/logout_confirm.html"

    def get(self, request: HttpRequest, appended_state: str | None = None) -> HttpResponse:
        # appended_state: ScotAccount documents ``my-logout-url&state=...`` (reference line 2412).
        try:
            state = flows.read_query_parameters(request, ("state",)).get("state")
        except BadCallback:
            state = ""
        if appended_state is not None:
            # Two states (one in the path, one in the query) is not a return we sent.
            state = appended_state if state is None else ""
        if flows.consume_logout(request.session, state or ""):
            return signed_out(request, self.template_name, scotaccount_signed_out=True)
        logger.info("Logout return without this browser's logout state: ignored")
        if request.user.is_authenticated:
            return render(request, self.still_signed_in_template_name, {"still_signed_in": True})
        return render(request, self.template_name)


class SessionEndedView(View):
    """ "You have been signed out": ``SessionLifetimeMiddleware`` sends people here."""

    http_method_names = ["get"]
    template_name = "scotaccount/session_ended.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        reason = request.GET.get("reason", "")
        limit = conf.SESSION_IDLE_TIMEOUT if reason == "idle" else conf.SESSION_LIFETIME
        context = {
            "reason": reason if reason in ("lifetime", "idle") else "",
            "duration": describe_duration(limit.total_seconds()) if limit else "",
            "sign_in_url": flows.sign_in_url(
                flows.requested_next_url(request), project_login=True
            ),
        }
        response = render(request, self.template_name, context)
        response["Cache-Control"] = "no-store"
        return response


def describe_duration(seconds: float) -> str:
    """``4 hours``, ``30 minutes``: a session limit as a person reads it."""
    minutes = round(seconds / 60)
    if minutes == 0:  # under a minute (a demo's or a test's setting): never "0 hours"
        count = max(round(seconds), 1)
        return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


@method_decorator(xframe_options_exempt, name="dispatch")
class FrontChannelLogoutView(View):
    """OIDC Front-Channel Logout 1.0: ScotAccount loads this in an iframe with ``sid``.

    No CSRF token: only ScotAccount and this site know the ``sid``. Every answer is
    the same page, so it reveals nothing about which sids exist.
    """

    http_method_names = ["get"]
    template_name = "scotaccount/frontchannel_logout.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            params = flows.read_query_parameters(request, ("iss", "sid"))
        except BadCallback:
            params = {}
        issuer, sid = params.get("iss"), params.get("sid")
        if sid and conf.ISSUER and issuer in (None, conf.ISSUER):
            ended = sessions.end_sessions_for_sid(conf.ISSUER, sid)
            telemetry.record_logout("front_channel", len(ended))
            current = request.session.session_key
            if current in {row.session_key for row in ended}:
                auth.logout(request)  # flush, so the deleted session is not saved back
            for row in ended:
                if row.session_key != current:  # auth.logout sent the signal for this one
                    user_logged_out.send_robust(
                        sender=type(row.user), request=request, user=row.user
                    )
        else:
            logger.info("Front-channel logout ignored: sid missing, or iss not our issuer")
        response = render(request, self.template_name)
        response["Cache-Control"] = "no-store"
        return response
