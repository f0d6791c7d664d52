"""Signals a council can connect to. Arguments carry ids, never personal data.

``signed_in``, ``signed_out`` and ``attributes_received`` are sent after the
transaction that recorded the event commits
(``transaction.on_commit``), so a receiver never sees, or acts on, a sign-in
that was then rolled back. A receiver that raises is logged (by Django, logger
``django.dispatch``) and skipped (``send_robust``): a council's side task must
never turn a sign-in or a logout into an error page. The app's own
bookkeeping (the ``sid`` registry that front-channel logout needs) is not a
receiver: it is called directly, inside the transaction. ``session_expired``
(sent by the middleware, outside any transaction) is sent robustly as well.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after every ScotAccount sign-in (including a step-up that signs the
#: person back in). Arguments: ``request``, ``user``, ``identity``
#: (a ``ScotAccountIdentity``), ``created`` (True when the identity is new).
signed_in = Signal()

#: Sent when a person signs out: by the logout view, and by front-channel logout
#: for each session it ends. Arguments: ``request``, ``user`` (None when the
#: session had no signed-in user).
signed_out = Signal()

#: Sent when the session lifetime middleware ends a session. Arguments:
#: ``request``, ``user`` (None for ``inactive_user``), ``reason``: ``"lifetime"``,
#: ``"idle"`` or ``"inactive_user"`` (deactivated or deleted).
session_expired = Signal()

#: Sent after a step-up's answer is stored (in its own committed transaction).
#: Arguments: ``request``, ``user``, ``identity`` (a ``ScotAccountIdentity``),
#: ``received`` (scopes now held verified) and ``missing`` (scopes that did not
#: come back verified). Read the values with ``scotaccount_django.attributes``.
attributes_received = Signal()
