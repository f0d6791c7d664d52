"""Delete what no longer needs keeping; run it daily, e.g. from cron.

Always deletes the front-channel logout records of sessions
that have ended (not deleted on the sign-in path). With
``--attributes-older-than DAYS`` it also applies a retention limit to verified
attributes (personal data) and the records of attribute requests. Every delete
runs in batches by primary key, so a backlog of millions of rows is purged in
constant memory.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from scotaccount_django import audit
from scotaccount_django._internal import telemetry
from scotaccount_django.conf import conf
from scotaccount_django.models import AttributeRequest, ScotAccountSession, VerifiedAttribute

#: Rows deleted per batch (and per transaction).
BATCH_SIZE = 2000


def positive_days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise ValueError(value)
    return days


def delete_in_batches(queryset: QuerySet[Any], batch_size: int | None = None) -> int:
    """Delete every row ``queryset`` matches, ``batch_size`` (``BATCH_SIZE``) at a time.

    ``QuerySet.delete()`` on a million rows makes one huge transaction and, for any
    model Django cannot "fast delete" (one with ``on_delete`` handlers or delete
    signals), loads every row into memory first (412 MiB at 1M rows). Deleting by
    primary-key batches keeps both the memory and each transaction small, and still
    runs Django's own delete (cascades, ``SET_NULL``, signals) for each batch.
    Returns how many rows of the queryset's model were deleted.
    """
    size = batch_size or BATCH_SIZE
    model = queryset.model
    label = model._meta.label
    keys = queryset.order_by().values_list("pk", flat=True)
    deleted = 0
    while True:
        with transaction.atomic(using=queryset.db):
            batch = list(keys[:size])
            if not batch:
                telemetry.record_purged(model._meta.model_name or "", deleted)
                return deleted
            _, per_model = model._base_manager.using(queryset.db).filter(pk__in=batch).delete()
        deleted += per_model.get(label, 0)


class Command(BaseCommand):
    help = "Delete ended sessions' logout records, and optionally old verified attributes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--attributes-older-than",
            type=positive_days,
            metavar="DAYS",
            help="Also delete verified attributes received more than DAYS days ago.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # No session outlives both its lifetime and its cookie; older rows are useless.
        retention = max(conf.SESSION_LIFETIME, timedelta(seconds=settings.SESSION_COOKIE_AGE))
        now = timezone.now()
        records = delete_in_batches(
            ScotAccountSession.objects.filter(created_at__lt=now - retention)
        )
        self.stdout.write(f"Deleted {records} front-channel logout record(s) of ended sessions.\n")
        days = options["attributes_older_than"]
        if days is None:
            audit.emit("purged", session_records=records)
            return
        # Deleted declines are forgotten, so the scope may be requested again.
        cutoff = now - timedelta(days=days)
        attributes = delete_in_batches(VerifiedAttribute.objects.filter(received_at__lt=cutoff))
        requests = delete_in_batches(AttributeRequest.objects.filter(completed_at__lt=cutoff))
        self.stdout.write(
            f"Deleted {attributes} verified attribute(s) and "
            f"{requests} attribute request record(s) older than {days} days.\n"
        )
        audit.emit(
            "purged",
            session_records=records,
            attributes=attributes,
            attribute_requests=requests,
            older_than_days=days,
        )
