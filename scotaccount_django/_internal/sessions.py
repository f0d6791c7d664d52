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
import uuid
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone

from scotaccount_django._internal.purge import delete_in_batches
from scotaccount_django._internal.statekit import hash_secret
from scotaccount_django.conf import conf
from scotaccount_django.models import ScotAccountSession

if TYPE_CHECKING:
    # What django-stubs says ``auth.authenticate`` returns and ``auth.login`` takes.
    from django.contrib.auth.models import _User

#: The raw ID token of this sign-in; read by logout as ``id_token_hint``.
ID_TOKEN = "_scotaccount_id_token"  # noqa: S105 - a key name, not a secret
#: ScotAccount's session id (``sid``); read by front-channel logout.
SID = "_scotaccount_sid"
#: The person's ``sub`` (str); read by step-up flows and session checks.
SUB = "_scotaccount_sub"
#: Server time of sign-in (POSIX seconds); read by the session lifetime middleware.
SIGNED_IN_AT = "_scotaccount_signed_in_at"
#: Server time of the last recorded request (POSIX seconds), written at most once
#: a minute; read by the middleware for the idle timeout.
LAST_ACTIVITY = "_scotaccount_last_activity"
#: Server time the middleware first saw a signed-in session that did not come from
#: ScotAccount; read by the middleware when SESSION_LIFETIME_FOR_ALL_USERS is on.
FIRST_SEEN = "_scotaccount_first_seen"


def start_session(
    request: HttpRequest,
    user: _User,
    *,
    id_token: str,
    issuer: str,
    sid: str | None,
    sub: uuid.UUID,
    step_up: bool,
) -> None:
    """Log ``user`` in (rotating the session key) and remember what logout needs.

    Logout needs the ID token (``id_token_hint``); front-channel logout needs the
    ``sid`` registry row, written here directly (not by a signal receiver).

    A step-up in this person's live session keeps the original sign-in time, so
    a step-up never extends the session.
    """
    signed_in_at = _carried_over_sign_in_time(request, user) if step_up else None
    key_before = request.session.session_key
    # Flushes the session when another person was signed in, and cycles the key
    # when nobody was; but it keeps the key when the same person signs in again
    # (a step-up), so cycle it here: a fixated key must never survive a sign-in.
    auth.login(request, user)
    if key_before is not None and request.session.session_key == key_before:
        request.session.cycle_key()
    request.session[ID_TOKEN] = id_token
    request.session[SID] = sid
    request.session[SUB] = str(sub)
    request.session[SIGNED_IN_AT] = signed_in_at or time.time()
    if sid:
        record(request, issuer=issuer, sid=sid, user=user)


def _carried_over_sign_in_time(request: HttpRequest, user: AbstractBaseUser) -> float | None:
    current = getattr(request, "user", None)
    if current is not None and current.is_authenticated and current.pk == user.pk:
        value = request.session.get(SIGNED_IN_AT)
        return float(value) if isinstance(value, int | float) else None
    return None


def _retention() -> timedelta:
    """No session can outlive both its lifetime and its cookie; rows older are useless."""
    return max(conf.SESSION_LIFETIME, timedelta(seconds=settings.SESSION_COOKIE_AGE))


def purge_records() -> int:
    """Delete registry rows older than any session can live (housekeeping, off the hot path)."""
    stale = ScotAccountSession.objects.filter(created_at__lt=timezone.now() - _retention())
    return delete_in_batches(stale)


def record(request: HttpRequest, *, issuer: str, sid: str, user: _User) -> None:
    """Remember that this request's session was created by ScotAccount session ``sid``."""
    session = request.session
    if session.session_key is None:
        # login() flushed the session (another person was signed in): the key is
        # only made when the session is saved, so make it now.
        session.save()
    # A plain insert: start_session always leaves a brand-new session key.
    ScotAccountSession.objects.create(
        session_key=cast(str, session.session_key),
        issuer=issuer,
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
