"""``GET /authorize/logout``: end the ScotAccount session and return to the relying party.

The ``id_token_hint`` must carry our signature (an expired one is fine: people
log out after their tokens expire), and ``post_logout_redirect_uri`` must be
registered, or the fake would be an open redirector.
"""

from __future__ import annotations

from urllib.parse import urlencode

import jwt

from scotaccount_django_testing.fake import pages
from scotaccount_django_testing.fake.journal import JournalEntry, Refusal
from scotaccount_django_testing.fake.messages import (
    Request,
    Response,
    html_response,
    redirect,
    with_query,
)
from scotaccount_django_testing.fake.state import ProviderState


def _check(state: ProviderState, request: Request, entry: JournalEntry) -> str | None:
    """Validate the request; returns the session id the hint names."""
    hint = request.arg("id_token_hint")
    entry.check("logout.id_token_hint_present", bool(hint))
    try:
        claims = state.signing_keys.verify(hint or "")
    except jwt.PyJWTError as error:
        entry.fail("logout.id_token_hint_signature", str(error))
    entry.note("logout.id_token_hint_signature", True)
    exp = claims.get("exp")
    entry.note(
        "logout.id_token_hint_expiry",
        isinstance(exp, int) and exp > state.clock.now(),
        "expiry tolerated",
    )
    entry.check("logout.id_token_hint_iss", claims.get("iss") == state.endpoints.issuer)
    if state.strict:
        entry.check(
            "logout.id_token_hint_aud",
            claims.get("aud") == state.registration.client_id,
            f"aud {claims.get('aud')!r}",
        )
    target = request.arg("post_logout_redirect_uri")
    if target is not None:
        entry.check(
            "logout.post_logout_redirect_uri",
            target in state.registration.post_logout_redirect_uris,
            f"{target!r} is not registered",
        )
    sid = claims.get("sid")
    return sid if isinstance(sid, str) else None


def logout(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """End the session named by the hint; redirect with ``state`` echoed."""
    try:
        sid = _check(state, request, entry)
    except Refusal as refusal:
        entry.outcome = f"refused: {refusal.rule}"
        return html_response(400, pages.error_page("Sign-out refused", str(refusal)))
    with state.lock:
        state.sessions.pop(sid or "", None)
    entry.issued = {"sid": sid}
    entry.outcome = "signed out"
    target = request.arg("post_logout_redirect_uri")
    if target is None:
        return html_response(200, pages.signed_out_page())
    if "logout_state_appended" in state.variants and request.arg("state") is not None:
        # As the docs print it (line 2412): "&state=" glued on, even without a "?".
        return redirect(f"{target}&{urlencode({'state': request.arg('state')})}")
    return redirect(with_query(target, {"state": request.arg("state")}))
