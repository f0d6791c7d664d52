"""The one signal Django lacks: sign-in and sign-out are ``user_logged_in``/``user_logged_out``."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent (robustly) once a step-up's stored answer commits, with ``request``, ``user``,
#: ``identity``, ``received``, ``missing`` and ``attribute_request``: see docs/attributes.md.
attributes_received = Signal()
