"""``/authorize`` and the sign-in and consent pages behind it.

Checks, and what each stops:

* registered ``client_id`` and exact registered ``redirect_uri``, else a 400
  page and *no* redirect: redirecting to an unregistered URI would hand codes
  (or at least errors) to whoever wrote the link;
* ``response_type=code``: the only flow ScotAccount runs;
* ``state`` and ``nonce`` required: CSRF on the callback and ID token replay;
* PKCE with ``S256`` only: a stolen code is useless without the verifier;
* ``openid`` and only known scopes.

Other errors go back to the redirect URI as ScotAccount's table documents
(``error``, ``error_description``, ``state``).
"""

from __future__ import annotations

import json
import re

from scotaccount_django_testing.fake import pages, sessions
from scotaccount_django_testing.fake.discovery import SUPPORTED_SCOPES
from scotaccount_django_testing.fake.journal import JournalEntry, Refusal
from scotaccount_django_testing.fake.messages import (
    Request,
    Response,
    html_response,
    redirect,
    with_query,
)
from scotaccount_django_testing.fake.personas import (
    ATTRIBUTE_SCOPES,
    DEFAULT_PERSONA,
    PERSONAS,
    Persona,
)
from scotaccount_django_testing.fake.scenarios import AUTHORIZE_ERRORS
from scotaccount_django_testing.fake.state import AuthRequest, ProviderState

#: An S256 challenge is a base64url SHA-256 digest: exactly 43 characters.
CHALLENGE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
PKCE_DESCRIPTION = "Required PKCE method(s): [plain, S256]"
EXPIRED_REQUEST = "This sign-in has expired. Go back to the service and start again."

#: The ``error`` code sent back when a rule fails; its description is the rule's detail.
RULE_ERRORS = {
    "authorize.response_type_present": "invalid_request",
    "authorize.response_type_code": "unsupported_response_type",
    "authorize.state_present": "invalid_request",
    "authorize.scope_openid": "invalid_scope",
    "authorize.scope_known": "invalid_scope",
    "authorize.pkce": "invalid_request",
    "authorize.nonce_present": "invalid_request",
    "authorize.claims_json": "invalid_request",
}


def error_redirect(redirect_uri: str, error: str, description: str, state: str | None) -> Response:
    """An authorization error, sent back to the relying party as ScotAccount does."""
    return redirect(
        with_query(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )
    )


def _check_registration(state: ProviderState, request: Request, entry: JournalEntry) -> str:
    registration = state.registration
    client_id = request.arg("client_id")
    if state.strict:
        entry.check("authorize.client_id", client_id == registration.client_id, f"{client_id!r}")
    else:
        entry.note("authorize.client_id", True, "lax mode: client_id not checked")
    redirect_uri = request.arg("redirect_uri") or ""
    entry.check(
        "authorize.redirect_uri",
        redirect_uri in registration.redirect_uris,
        f"{redirect_uri!r} is not registered",
    )
    return redirect_uri


def _check_request(state: ProviderState, request: Request, entry: JournalEntry) -> AuthRequest:
    response_type = request.arg("response_type")
    entry.check(
        "authorize.response_type_present",
        bool(response_type),
        "Invalid request: Missing response_type parameter",
    )
    entry.check(
        "authorize.response_type_code",
        response_type == "code",
        f"Unsupported response type {response_type}",
    )
    entry.check(
        "authorize.state_present",
        bool(request.arg("state")),
        "Invalid Request: Missing state parameter",
    )
    scopes = tuple((request.arg("scope") or "").split())
    entry.check(
        "authorize.scope_openid", "openid" in scopes, "Invalid scope: missing scope openid"
    )
    unknown = [scope for scope in scopes if scope not in SUPPORTED_SCOPES]
    entry.check("authorize.scope_known", not unknown, f"Invalid scope: {' '.join(unknown)}")
    challenge = request.arg("code_challenge")
    method = request.arg("code_challenge_method")
    entry.pkce = {"code_challenge": challenge or "", "code_challenge_method": method or ""}
    if state.strict:
        entry.check(
            "authorize.pkce",
            method == "S256"
            and bool(challenge)
            and bool(CHALLENGE_PATTERN.match(challenge or "")),
            PKCE_DESCRIPTION,
        )
        entry.check(
            "authorize.nonce_present",
            bool(request.arg("nonce")),
            "Invalid request: Missing nonce parameter",
        )
    else:
        entry.note("authorize.pkce", True, "lax mode: PKCE and nonce not checked")
    claims = request.arg("claims")
    if claims is not None:
        entry.check(
            "authorize.claims_json",
            _is_json_object(claims),
            "Invalid request: Invalid claims parameter: Invalid JSON",
        )
    return AuthRequest(
        client_id=request.arg("client_id") or "",
        redirect_uri=request.arg("redirect_uri") or "",
        scopes=scopes,
        state=request.arg("state") or "",
        nonce=request.arg("nonce"),
        code_challenge=challenge,
        code_challenge_method=method,
    )


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def authorize(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """``GET /authorize``: validate, then show the sign-in page or auto-approve."""
    try:
        redirect_uri = _check_registration(state, request, entry)
    except Refusal as refusal:
        entry.outcome = "refused without redirect"
        return html_response(400, pages.error_page("Request refused", str(refusal)))
    fault = state.scenarios.take_first(AUTHORIZE_ERRORS)
    if fault:
        entry.fault = fault
        error, description = AUTHORIZE_ERRORS[fault]
        return error_redirect(redirect_uri, error, description, request.arg("state"))
    try:
        auth_request = _check_request(state, request, entry)
    except Refusal as refusal:
        entry.outcome = RULE_ERRORS[refusal.rule]
        return error_redirect(
            redirect_uri, RULE_ERRORS[refusal.rule], refusal.detail, request.arg("state")
        )
    if state.auto_approve:
        persona = PERSONAS[state.auto_approve]
        entry.outcome = f"auto-approved as {persona.id}"
        return approve(state, auth_request, persona, requested_attributes(auth_request), entry)
    request_id = state.hold(auth_request)
    session = sessions.current(state, request)
    if session is not None:
        # ScotAccount remembers the person for 4 hours: only consent is asked.
        entry.outcome = f"consent page (signed in as {session.persona_id})"
        return _consent(request_id, auth_request, session.persona)
    entry.outcome = "sign-in page"
    return html_response(
        200, pages.sign_in_page(request_id, list(PERSONAS.values()), DEFAULT_PERSONA)
    )


def requested_attributes(auth_request: AuthRequest) -> tuple[str, ...]:
    return tuple(scope for scope in ATTRIBUTE_SCOPES if scope in auth_request.scopes)


def approve(
    state: ProviderState,
    auth_request: AuthRequest,
    persona: Persona,
    released: tuple[str, ...],
    entry: JournalEntry,
    sid: str | None = None,
) -> Response:
    """Issue a code and send the person back with it (and the ``state``)."""
    code = state.issue_code(auth_request, persona, released, sid)
    entry.issued = {"sub": persona.sub, "released": list(released)}
    return redirect(
        with_query(auth_request.redirect_uri, {"code": code, "state": auth_request.state})
    )


def _consent(request_id: str, auth_request: AuthRequest, persona: Persona) -> Response:
    return html_response(
        200, pages.consent_page(request_id, persona, list(requested_attributes(auth_request)))
    )


def sign_in(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """``POST /authorize/sign-in``: start the ScotAccount session, then on to consent.

    Redirects (303) rather than answering the POST with a page, so the browser's
    Back button never asks to resubmit the form.
    """
    request_id = request.field("request_id") or ""
    auth_request = state.peek(request_id)
    persona = PERSONAS.get(request.field("persona") or "")
    if auth_request is None or persona is None:
        entry.note("sign_in.request_known", False)
        return html_response(
            400,
            pages.error_page("Sign-in refused", EXPIRED_REQUEST),
        )
    entry.outcome = f"signed in as {persona.id}"
    response = redirect(with_query("/authorize/consent", {"request_id": request_id}), status=303)
    sessions.start(state, persona, response)
    return response


def consent_page(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """``GET /authorize/consent``: the consent page for the signed-in person."""
    request_id = request.arg("request_id") or ""
    auth_request = state.peek(request_id)
    if auth_request is None:
        entry.note("consent.request_known", False)
        return html_response(
            400,
            pages.error_page("Sign-in refused", EXPIRED_REQUEST),
        )
    session = sessions.current(state, request)
    if session is None:
        entry.outcome = "sign-in page (no ScotAccount session)"
        return html_response(
            200, pages.sign_in_page(request_id, list(PERSONAS.values()), DEFAULT_PERSONA)
        )
    entry.outcome = f"consent page (signed in as {session.persona_id})"
    return _consent(request_id, auth_request, session.persona)


def consent(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """``POST /authorize/consent``: release the ticked attributes, or cancel.

    The person is the one the browser's ScotAccount session names, never a form field.
    """
    session = sessions.current(state, request)
    auth_request = state.release(request.field("request_id") or "") if session else None
    if auth_request is None or session is None:
        entry.note("consent.request_known", False)
        return html_response(
            400,
            pages.error_page(
                "Consent refused",
                "This request was already answered, or your ScotAccount session ended."
                " Go back to the service and start again.",
            ),
        )
    persona = session.persona
    if request.field("action") == "cancel":
        entry.outcome = "access_denied"
        return error_redirect(
            auth_request.redirect_uri,
            "access_denied",
            "The user cancelled",
            auth_request.state,
        )
    ticked = set(request.fields("release"))
    released = tuple(scope for scope in requested_attributes(auth_request) if scope in ticked)
    entry.outcome = f"approved as {persona.id}"
    return approve(state, auth_request, persona, released, entry, session.sid)
