"""The one signal Django has no equivalent of (sign-in and sign-out are Django's own
``user_logged_in`` and ``user_logged_out``). Arguments carry ids, never personal data."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after a step-up's answer is stored, once its transaction commits
#: (``transaction.on_commit`` and ``send_robust``: a receiver that raises is
#: logged by Django, logger ``django.dispatch``, and cannot turn the step-up
#: into an error page). Arguments: ``request``, ``user``, ``identity`` (a
#: ``ScotAccountIdentity``), ``received`` (scopes now held verified) and
#: ``missing`` (scopes that did not come back verified), ``attribute_request`` (the
#: ``AttributeRequest`` recorded). Read the values with
#: ``scotaccount_django.attributes``.
attributes_received = Signal()
