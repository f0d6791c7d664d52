"""The local session a ScotAccount sign-in creates: its keys, its start, and its ends.

Front-channel logout names only ``sid`` (no cookie of ours: SameSite), so each sign-in
records its session key under the ``sid`` (a registry row, not a per-request query).
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from scotaccount_django._internal.provider import IDTokenClaims
from scotaccount_django.conf import conf
from scotaccount_django.models import ScotAccountSession

if TYPE_CHECKING:
    # What django-stubs says ``auth.authenticate`` returns and ``auth.login`` takes.
    from django.contrib.auth.models import _User

#: The raw ID token of this sign-in; read by logout as ``id_token_hint``.
ID_TOKEN = "_scotaccount_id_token"  # noqa: S105 - a key name, not a secret
#: The person's ``sub`` (str): marks a ScotAccount session; read by the middleware.
SUB = "_scotaccount_sub"
#: POSIX time of the last recorded request (at most once a minute); read by the middleware.
LAST_ACTIVITY = "_scotaccount_last_activity"
#: Request attribute: why the middleware is ending this request's session; read by the audit log.
ENDED = "_scotaccount_session_ended"
#: Django's own expiry (``set_expiry``) is set this long after the lifetime ends, so
#: the middleware still finds an ended session and can tell the person why.
ENDED_NOTICE = timedelta(days=1)


def hash_sid(sid: str) -> str:
    """The registry stores only a hash: a leaked row cannot end anyone's session."""
    return hashlib.sha256(sid.encode()).hexdigest()


def start_session(
    request: HttpRequest,
    user: _User,
    *,
    id_token: str,
    claims: IDTokenClaims,
    step_up: bool = False,
) -> None:
    """Log ``user`` in with a new session key, and remember what logout needs.

    A ``step_up`` by the person signed in is no new sign-in: the key cycles, the lifetime stays.
    """
    session, key_before = request.session, request.session.session_key
    if step_up:
        session.cycle_key()
        ScotAccountSession.objects.filter(session_key=key_before).delete()
    else:
        # login() keeps the key when the same person signs in again: session fixation.
        auth.login(request, user)
        if key_before is not None and session.session_key == key_before:
            session.cycle_key()
        session.set_expiry(conf.SESSION_LIFETIME + ENDED_NOTICE)
        session[LAST_ACTIVITY] = time.time()
    sid = claims.sid
    session[ID_TOKEN] = id_token
    session[SUB] = str(claims.sub)
    if not sid:
        return
    if session.session_key is None:
        # login() flushed the session (another person was signed in): make the key now.
        session.save()
    ScotAccountSession.objects.create(
        session_key=cast(str, session.session_key),
        issuer=claims.claims["iss"],
        sid_hash=hash_sid(sid),
        user_id=user.pk,
    )


def end_local_session(request: HttpRequest) -> None:
    """Sign the person out here: forget the registry row, then ``auth.logout`` (flush)."""
    if request.session.session_key:
        ScotAccountSession.objects.filter(session_key=request.session.session_key).delete()
    auth.logout(request)


def end_sessions_for_sid(issuer: str, sid: str) -> list[ScotAccountSession]:
    """Delete every local session ScotAccount session ``sid`` created; returns their rows."""
    found = ScotAccountSession.objects.filter(issuer=issuer, sid_hash=hash_sid(sid))
    rows = list(found.select_related("user"))
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    for row in rows:
        store(row.session_key).delete()
    ScotAccountSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return rows


def expiry_reason(request: HttpRequest, now: float) -> str | None:
    """Why this ScotAccount session must end (lifetime, idle, inactive_user), or None."""
    session = request.session
    if SUB not in session:
        return None
    if not request.user.is_authenticated:
        return "inactive_user"  # the backend refused the session's user: deactivated or deleted
    if now >= (session.get_expiry_date() - ENDED_NOTICE).timestamp():
        return "lifetime"
    idle_timeout = conf.SESSION_IDLE_TIMEOUT
    if idle_timeout is not None:
        last_activity = float(session.get(LAST_ACTIVITY, now))
        if now - last_activity >= idle_timeout.total_seconds():
            return "idle"
        if now - last_activity >= 60:  # written at most once a minute: cheap requests
            session[LAST_ACTIVITY] = now
    return None
