"""Which local sessions each ScotAccount ``sid`` created, so front-channel logout can end them.

Front-channel logout arrives in a hidden iframe, usually without our session
cookie (SameSite), naming only ScotAccount's ``sid``. Two designs were weighed:

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

from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from scotaccount_django._internal import session_keys
from scotaccount_django._internal.tokens import hash_secret
from scotaccount_django.conf import conf
from scotaccount_django.models import ScotAccountIdentity, ScotAccountSession


def _retention() -> timedelta:
    """No session can outlive both its lifetime and its cookie; rows older are useless."""
    return max(conf.SESSION_LIFETIME, timedelta(seconds=settings.SESSION_COOKIE_AGE))


def stale_records(now: datetime) -> QuerySet[ScotAccountSession]:
    """Rows no session can still use (the purge command deletes them)."""
    return ScotAccountSession.objects.filter(created_at__lt=now - _retention())


def record(request: HttpRequest, *, issuer: str, sid: str, user: AbstractBaseUser) -> None:
    """Remember that this request's session was created by ScotAccount session ``sid``."""
    session = request.session
    if session.session_key is None:
        # login() flushed the session (another person was signed in): the key is
        # only made when the session is saved, so make it now.
        session.save()
    stale_records(timezone.now()).delete()
    ScotAccountSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={"issuer": issuer, "sid_hash": hash_secret(sid), "user": user},
    )


def record_sign_in(
    sender: Any,
    request: HttpRequest,
    user: AbstractBaseUser,
    identity: ScotAccountIdentity,
    **kwargs: Any,
) -> None:
    """``signed_in`` receiver: record the session when the ID token carried a ``sid``."""
    sid = request.session.get(session_keys.SID)
    if isinstance(sid, str) and sid:
        record(request, issuer=identity.issuer, sid=sid, user=user)


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
