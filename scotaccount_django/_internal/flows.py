"""Starting and consuming authorization flows: the one place state, nonce and PKCE live.

Sign-in and step-up flows both go through here. Defences, by attack:
- CSRF / login CSRF: ``state`` (256 bits) is matched, and the flow is bound to
  the browser that started it by a separate cookie whose hash is stored.
- Replay and double submission: a flow row is deleted to be consumed; only the
  request whose DELETE removed the row may continue, even at the same instant.
- Code interception: PKCE S256 with a fresh 64-character verifier.
- Several tabs: each tab's flow is its own row; the browser cookie is shared.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.utils import generate_code_challenge

from scotaccount_django._internal.discovery import ProviderMetadata
from scotaccount_django._internal.tokens import hash_secret
from scotaccount_django._internal.urls import with_query
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    BrowserMismatch,
    FlowExpired,
    UnknownFlow,
)
from scotaccount_django.models import AuthorizationFlow

#: 48 random bytes -> 64 URL-safe characters, inside RFC 7636's 43..128.
CODE_VERIFIER_BYTES = 48
SECRET_BYTES = 32
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class StartedFlow:
    authorization_url: str
    browser_cookie: str


def browser_cookie_value(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(conf.FLOW_COOKIE_NAME)
    return value if value and _COOKIE_VALUE.match(value) else None


def start_flow(
    request: HttpRequest,
    *,
    metadata: ProviderMetadata,
    purpose: str,
    scopes: list[str],
    redirect_uri: str,
    next_url: str = "",
    initiating_sub: uuid.UUID | None = None,
) -> StartedFlow:
    """Record a new flow and build the URL that sends the browser to ScotAccount."""
    state = secrets.token_urlsafe(SECRET_BYTES)
    nonce = secrets.token_urlsafe(SECRET_BYTES)
    code_verifier = secrets.token_urlsafe(CODE_VERIFIER_BYTES)
    browser_cookie = browser_cookie_value(request) or secrets.token_urlsafe(SECRET_BYTES)
    now = timezone.now()
    AuthorizationFlow.objects.filter(expires_at__lte=now).delete()
    AuthorizationFlow.objects.create(
        state_hash=hash_secret(state),
        nonce_hash=hash_secret(nonce),
        code_verifier=code_verifier,
        browser_binding_hash=hash_secret(browser_cookie),
        purpose=purpose,
        scopes=" ".join(scopes),
        redirect_uri=redirect_uri,
        initiating_sub=initiating_sub,
        next_url=next_url,
        expires_at=now + conf.FLOW_LIFETIME,
    )
    params = {
        "client_id": conf.CLIENT_ID or "",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": generate_code_challenge(code_verifier, "S256"),
        "code_challenge_method": "S256",
    }
    return StartedFlow(
        authorization_url=with_query(metadata.authorization_endpoint, params),
        browser_cookie=browser_cookie,
    )


def consume_flow(request: HttpRequest, state: str | None) -> AuthorizationFlow:
    """Take the flow ``state`` names out of the store, for this browser only.

    The row is deleted whatever happens next, so a callback can never be
    replayed, not even after an error.
    """
    if not state:
        raise UnknownFlow("the callback has no state")
    flow = AuthorizationFlow.objects.filter(state_hash=hash_secret(state)).first()
    if flow is None:
        raise UnknownFlow("no pending flow has this state")
    deleted, _ = AuthorizationFlow.objects.filter(pk=flow.pk).delete()
    if not deleted:
        raise UnknownFlow("the flow was consumed by a concurrent request")
    if flow.expires_at <= timezone.now():
        raise FlowExpired("the flow has expired")
    cookie = browser_cookie_value(request)
    if cookie is None or not hmac.compare_digest(hash_secret(cookie), flow.browser_binding_hash):
        raise BrowserMismatch("the callback came to a browser that did not start this flow")
    return flow
