"""The person's own ScotAccount session: a browser cookie that lasts 4 hours.

ScotAccount remembers who signed in ("ScotAccount's user session timeout
duration is 4 hours"), so a second ``/authorize`` from the same browser, a
step-up for example, asks only for consent, never "who are you?" again, and
cannot come back as someone else. The session's ``sid`` is the one every ID
token issued in it carries, so logging out with any of them ends it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from scotaccount_django_testing.fake.messages import Request, Response
from scotaccount_django_testing.fake.personas import PERSONAS, Persona
from scotaccount_django_testing.fake.state import ProviderState

#: The cookie's name: distinct from any relying party's on the same loopback host.
COOKIE_NAME = "fake_scotaccount_session"
#: ScotAccount's documented session length, in seconds (not extended by activity).
SESSION_LIFETIME = 4 * 60 * 60


@dataclass(frozen=True)
class BrowserSession:
    """Who signed in in one browser, when, and the ``sid`` their ID tokens carry."""

    persona_id: str
    sid: str
    started_at: int

    @property
    def persona(self) -> Persona:
        return PERSONAS[self.persona_id]


def start(state: ProviderState, persona: Persona, response: Response) -> BrowserSession:
    """Sign ``persona`` in to the fake's ScotAccount; the cookie goes on ``response``."""
    token = secrets.token_urlsafe(32)
    session = BrowserSession(persona.id, secrets.token_urlsafe(32), state.clock.now())
    with state.lock:
        state.browser_sessions[token] = session
        state.sessions[session.sid] = persona.id
    # No Max-Age: the server-side 4 hours decide, as at ScotAccount.
    response.headers.append(
        ("Set-Cookie", f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax")
    )
    return session


def current(state: ProviderState, request: Request) -> BrowserSession | None:
    """The browser's live session: known, under 4 hours old and not logged out."""
    token = _cookie(request)
    with state.lock:
        session = state.browser_sessions.get(token) if token else None
        if session is None:
            return None
        expired = state.clock.now() - session.started_at >= SESSION_LIFETIME
        if expired or session.sid not in state.sessions:  # logout removes the sid
            del state.browser_sessions[token or ""]
            return None
    return session


def _cookie(request: Request) -> str | None:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(request.headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = cookies.get(COOKIE_NAME)
    return morsel.value if morsel else None
