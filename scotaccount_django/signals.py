"""Signals a council can connect to. Arguments carry ids, never personal data."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after every ScotAccount sign-in (including a step-up that signs the
#: person back in). Arguments: ``request``, ``user``, ``identity``
#: (a ``ScotAccountIdentity``), ``created`` (True when the user is new).
signed_in = Signal()
