"""Delete what no longer needs keeping (the sign-in path does not); run it daily."""

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
from scotaccount_django.management.kit import positive
from scotaccount_django.models import AttributeRequest, ScotAccountSession, VerifiedAttribute

#: Rows deleted per batch (and per transaction).
BATCH_SIZE = 2000


def delete_in_batches(queryset: QuerySet[Any]) -> int:
    """How many rows were deleted, in primary-key batches: one ``QuerySet.delete()`` is one huge
    transaction and may load every row first (412 MiB at 1M rows)."""
    model, size, deleted = queryset.model, BATCH_SIZE, 0
    keys = queryset.order_by().values_list("pk", flat=True)
    while True:
        with transaction.atomic(using=queryset.db):
            batch = list(keys[:size])
            if not batch:
                telemetry.record_purged(model._meta.model_name or "", deleted)
                return deleted
            _, per_model = model._base_manager.using(queryset.db).filter(pk__in=batch).delete()
        deleted += per_model.get(model._meta.label, 0)


class Command(BaseCommand):
    help = "Delete ended sessions' logout records, and optionally old verified attributes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--attributes-older-than",
            type=positive,
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
        self.stdout.write(f"Deleted {records} front-channel logout record(s) of ended sessions.")
        days, counts = options["attributes_older_than"], {"session_records": records}
        if days is not None:
            # Deleted declines are forgotten, so the scope may be requested again.
            cutoff = now - timedelta(days=days)
            attributes = delete_in_batches(
                VerifiedAttribute.objects.filter(received_at__lt=cutoff)
            )
            requests = delete_in_batches(AttributeRequest.objects.filter(completed_at__lt=cutoff))
            self.stdout.write(
                f"Deleted {attributes} verified attribute(s) and "
                f"{requests} attribute request record(s) older than {days} days."
            )
            counts.update(attributes=attributes, attribute_requests=requests, older_than_days=days)
        audit.emit("purged", **counts)
