"""Audit events for a SIEM, on the logger ``scotaccount_django.audit``.

One ``INFO`` record per event, with the fields as record attributes (``extra=``)
so a JSON formatter sends them as fields. Records carry database ids, scope
names and reasons only: never names, dates of birth, addresses, emails,
tokens or ScotAccount's ``sub``. Events come from the app's own signals and
from model signals, so the views that cause them need no audit code; data
events are logged only once their transaction commits. ``docs/deployment.md``
lists every field.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from scotaccount_django import signals
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity

logger = logging.getLogger("scotaccount_django.audit")

AuditValue = str | int | bool | list[str] | dict[str, str] | None


def emit(event: str, **fields: AuditValue) -> None:
    """Log one audit event; ``fields`` must hold ids and codes only."""
    ids = " ".join(f"{name}={value}" for name, value in fields.items())
    logger.info("ScotAccount audit: %s %s", event, ids, extra={"audit_event": event, **fields})


def _user_id(user: Any) -> str | None:
    return None if user is None or user.pk is None else str(user.pk)


def _signed_in(sender: Any, user: Any, identity: ScotAccountIdentity, **kwargs: Any) -> None:
    created = bool(kwargs.get("created"))
    emit("signed_in", user_id=_user_id(user), identity_id=identity.pk, user_created=created)


def _signed_out(sender: Any, user: Any = None, **kwargs: Any) -> None:
    emit("signed_out", user_id=_user_id(user))


def _session_expired(sender: Any, user: Any = None, reason: str = "", **kwargs: Any) -> None:
    emit("session_expired", user_id=_user_id(user), reason=reason)


def _attribute_request_saved(
    sender: Any, instance: AttributeRequest, created: bool, **kwargs: Any
) -> None:
    if not created:
        return
    fields: dict[str, AuditValue] = {
        "user_id": str(instance.identity.user_id),
        "identity_id": instance.identity_id,
        "attribute_request_id": instance.pk,
    }
    declined = [
        scope
        for scope, reason in instance.missing_scopes.items()
        if reason == AttributeRequest.Reason.DECLINED
    ]
    received = {
        **fields,
        "scopes": list(instance.received_scopes),
        "missing": {str(scope): str(reason) for scope, reason in instance.missing_scopes.items()},
        "status": instance.status,
    }
    transaction.on_commit(lambda: emit("attributes_received", **received))
    if declined:
        transaction.on_commit(lambda: emit("attributes_declined", **fields, scopes=declined))


def attribute_values_viewed(user: Any, attribute_id: str) -> None:
    """Staff saw a verified attribute's values in the admin (called by ``admin.py``)."""
    emit("attribute_values_viewed", user_id=_user_id(user), attribute_id=str(attribute_id))


def _identity_deleted(sender: Any, instance: ScotAccountIdentity, **kwargs: Any) -> None:
    user_id, identity_id = str(instance.user_id), instance.pk
    transaction.on_commit(lambda: emit("erased", user_id=user_id, identity_id=identity_id))


def connect() -> None:
    """Listen for every audited event; called once from ``AppConfig.ready``."""
    signals.signed_in.connect(_signed_in, dispatch_uid="scotaccount_audit_signed_in")
    signals.signed_out.connect(_signed_out, dispatch_uid="scotaccount_audit_signed_out")
    signals.session_expired.connect(_session_expired, dispatch_uid="scotaccount_audit_expired")
    post_save.connect(
        _attribute_request_saved, sender=AttributeRequest, dispatch_uid="scotaccount_audit_attrs"
    )
    post_delete.connect(
        _identity_deleted, sender=ScotAccountIdentity, dispatch_uid="scotaccount_audit_erased"
    )
