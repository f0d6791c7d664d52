"""Audit events for a SIEM: one ``INFO`` record each on ``scotaccount_django.audit``.

Fields (``extra=``) hold ids, scope names and reasons only; ``docs/deployment.md`` lists them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete

from scotaccount_django import signals
from scotaccount_django._internal import flows, sessions
from scotaccount_django.models import AttributeRequest, ScotAccountIdentity

logger = logging.getLogger("scotaccount_django.audit")

AuditValue = str | int | bool | list[str] | dict[str, str] | None


def emit(event: str, **fields: AuditValue) -> None:
    """Log one audit event; ``fields`` must hold ids and codes only."""
    ids = " ".join(f"{name}={value}" for name, value in fields.items())
    logger.info("ScotAccount audit: %s %s", event, ids, extra={"audit_event": event, **fields})


def _user_id(user: Any) -> str | None:
    return None if user is None or user.pk is None else str(user.pk)


def _signed_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    # Only ScotAccount sign-ins: the callback's flow is on the request.
    if getattr(request, flows.IN_PROGRESS, None) is not None:
        identity = getattr(user, "scotaccount_identity", None)
        emit("signed_in", user_id=_user_id(user), identity_id=getattr(identity, "pk", None))


def _signed_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    reason = getattr(request, sessions.ENDED, None)
    if reason:
        emit("session_expired", user_id=_user_id(user), reason=reason)
    else:
        emit("signed_out", user_id=_user_id(user))


def _attributes_received(sender: Any, attribute_request: AttributeRequest, **kwargs: Any) -> None:
    record = attribute_request
    fields: dict[str, AuditValue] = {
        "user_id": str(record.identity.user_id),
        "identity_id": record.identity_id,
        "attribute_request_id": record.pk,
    }
    missing = {str(scope): str(reason) for scope, reason in record.missing_scopes.items()}
    scopes = list(record.received_scopes)
    emit("attributes_received", **fields, scopes=scopes, missing=missing, status=record.status)
    declined = [s for s, reason in missing.items() if reason == AttributeRequest.Reason.DECLINED]
    if declined:
        emit("attributes_declined", **fields, scopes=declined)


def attribute_values_viewed(user: Any, attribute_id: str) -> None:
    """Staff saw a verified attribute's values in the admin (called by ``admin.py``)."""
    emit("attribute_values_viewed", user_id=_user_id(user), attribute_id=str(attribute_id))


def _identity_deleted(sender: Any, instance: ScotAccountIdentity, **kwargs: Any) -> None:
    user_id, identity_id = str(instance.user_id), instance.pk
    transaction.on_commit(lambda: emit("erased", user_id=user_id, identity_id=identity_id))


def connect() -> None:
    """Listen for every audited event; called once from ``AppConfig.ready``."""
    user_logged_in.connect(_signed_in, dispatch_uid="scotaccount_audit_signed_in")
    user_logged_out.connect(_signed_out, dispatch_uid="scotaccount_audit_signed_out")
    signals.attributes_received.connect(
        _attributes_received, dispatch_uid="scotaccount_audit_attrs"
    )
    post_delete.connect(
        _identity_deleted, sender=ScotAccountIdentity, dispatch_uid="scotaccount_audit_erased"
    )
