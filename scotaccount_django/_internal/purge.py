"""Deleting large backlogs in batches, so housekeeping runs in constant memory.

``QuerySet.delete()`` on a million rows makes one huge transaction and, for any
model Django cannot "fast delete" (one with ``on_delete`` handlers or delete
signals), loads every row into memory first (412 MiB at 1M rows). Deleting by
primary-key batches keeps both the memory and each transaction small, and still
runs Django's own delete (cascades, ``SET_NULL``, signals) for each batch.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from scotaccount_django._internal import telemetry

#: Rows deleted per batch (and per transaction).
BATCH_SIZE = 2000


def delete_in_batches(queryset: QuerySet[Any], batch_size: int | None = None) -> int:
    """Delete every row ``queryset`` matches, ``batch_size`` (``BATCH_SIZE``) at a time.

    Returns how many rows of the queryset's model were deleted. Only one batch of
    primary keys is held at a time, and each batch is its own short transaction.
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
