"""The local session a ScotAccount sign-in creates: its keys, its start, and its ends.

Session keys are module-level constants; each says who reads it.

Front-channel logout arrives in a hidden iframe, usually without our session
cookie (SameSite), naming only ScotAccount's ``sid``, so each sign-in records
which local session its ``sid`` created. Two designs were weighed:

- a registry (this module): one row per sign-in, mapping the ``sid`` hash to the
  local session key; logout deletes that session through the configured
  engine's ``SessionStore(session_key).delete()``. One write per sign-in, nothing
  per request, the session ends at once, any server-side engine works.
- a revoked-``sid`` list checked by the middleware: a database read on every
  request of every signed-in person, and the session lingers until its next
  request. Rejected for that per-request cost.

Sign-in and step-up both record the key they leave the session with. Code that
cycles the session key at other times leaves a stale row: that session is then
not found by front-channel logout (it still ends at its lifetime), and the row
is pruned with the others.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from importlib import import_module
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from scotaccount_django._internal.flows import hash_secret
from scotaccount_django._internal.provider import IDTokenClaims
from scotaccount_django.conf import conf
from scotaccount_django.models import ScotAccountSession

if TYPE_CHECKING:
    # What django-stubs says ``auth.authenticate`` returns and ``auth.login`` takes.
    from django.contrib.auth.models import _User

#: The raw ID token of this sign-in; read by logout as ``id_token_hint``.
ID_TOKEN = "_scotaccount_id_token"  # noqa: S105 - a key name, not a secret
#: ScotAccount's session id (``sid``); read by front-channel logout.
SID = "_scotaccount_sid"
#: The person's ``sub`` (str): marks a ScotAccount session; read by the middleware.
SUB = "_scotaccount_sub"
#: Server time of the last recorded request (POSIX seconds), written at most once
#: a minute; read by the middleware for the idle timeout.
LAST_ACTIVITY = "_scotaccount_last_activity"
#: The idle timestamp is rewritten only when it is at least this old (seconds).
ACTIVITY_RESOLUTION = 60.0
#: Request attribute: why the middleware is ending this request's session; read by the audit log.
ENDED = "_scotaccount_session_ended"
#: Django's own expiry (``set_expiry``) is set this long after the lifetime ends, so
#: the middleware still finds an ended session and can tell the person why.
ENDED_NOTICE = timedelta(days=1)


def start_session(
    request: HttpRequest, user: _User, *, id_token: str, claims: IDTokenClaims
) -> None:
    """Log ``user`` in (rotating the session key) and remember what logout needs.

    The absolute lifetime starts here, as Django's own ``set_expiry``: it is
    kept across key cycles (a step-up never extends it) and enforced by the
    session store itself.
    """
    key_before = request.session.session_key
    # Flushes the session when another person was signed in, and cycles the key
    # when nobody was; but it keeps the key when the same person signs in again,
    # so cycle it here: a fixated key must never survive a sign-in.
    auth.login(request, user)
    if key_before is not None and request.session.session_key == key_before:
        request.session.cycle_key()
    start_lifetime(request.session, time.time())
    remember(request, user, id_token=id_token, claims=claims)


def continue_session(
    request: HttpRequest, user: _User, *, id_token: str, claims: IDTokenClaims
) -> None:
    """A step-up by the person already signed in: no second sign-in, a new key.

    The key cycles (a privilege change), the lifetime and sign-in stay, and the
    ``sid`` registry row follows the new key.
    """
    old_key = request.session.session_key
    request.session.cycle_key()
    ScotAccountSession.objects.filter(session_key=old_key).delete()
    remember(request, user, id_token=id_token, claims=claims)


def start_lifetime(session: SessionBase, now: float) -> None:
    """The session ends ``SCOTACCOUNT_SESSION_LIFETIME`` from ``now``, whatever happens."""
    ends = datetime.fromtimestamp(now, tz=dt_timezone.utc) + conf.SESSION_LIFETIME
    session.set_expiry(ends + ENDED_NOTICE)
    session[LAST_ACTIVITY] = now  # saved with the sign-in anyway


def lifetime_end(session: SessionBase) -> float:
    """When this session's lifetime ends (POSIX seconds), from Django's expiry."""
    return (session.get_expiry_date() - ENDED_NOTICE).timestamp()


def remember(request: HttpRequest, user: _User, *, id_token: str, claims: IDTokenClaims) -> None:
    """What logout (the ID token) and front-channel logout (the ``sid`` row) need."""
    session, sid = request.session, claims.sid
    session[ID_TOKEN] = id_token
    session[SID] = sid
    session[SUB] = str(claims.sub)
    if not sid:
        return
    if session.session_key is None:
        # login() flushed the session (another person was signed in): the key is
        # only made when the session is saved, so make it now.
        session.save()
    # A plain insert: the session key is always brand-new here.
    ScotAccountSession.objects.create(
        session_key=cast(str, session.session_key),
        issuer=claims.claims["iss"],
        sid_hash=hash_secret(sid),
        user_id=user.pk,
    )


def end_local_session(request: HttpRequest) -> None:
    """Sign the person out here: forget the registry row, then ``auth.logout`` (flush)."""
    if request.session.session_key:
        ScotAccountSession.objects.filter(session_key=request.session.session_key).delete()
    auth.logout(request)


def end_sessions_for_sid(issuer: str, sid: str) -> list[ScotAccountSession]:
    """Delete every local session ScotAccount session ``sid`` created; returns their rows."""
    rows = list(
        ScotAccountSession.objects.filter(issuer=issuer, sid_hash=hash_secret(sid)).select_related(
            "user"
        )
    )
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    for row in rows:
        store(row.session_key).delete()
    ScotAccountSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return rows


def expiry_reason(request: HttpRequest, now: float) -> str | None:
    """Why this request's session must end (``lifetime``, ``idle``, ``inactive_user``), or None.

    Only sessions signed in with ScotAccount; others keep Django's own lifetime."""
    session = request.session
    if SUB not in session:
        return None
    if not request.user.is_authenticated:
        return "inactive_user"  # the backend refused the session's user: deactivated or deleted
    if now >= lifetime_end(session):
        return "lifetime"
    idle_timeout = conf.SESSION_IDLE_TIMEOUT
    if idle_timeout is not None:
        last_activity = float(session.get(LAST_ACTIVITY, now))
        if now - last_activity >= idle_timeout.total_seconds():
            return "idle"
        if now - last_activity >= ACTIVITY_RESOLUTION:
            session[LAST_ACTIVITY] = now
    return None
