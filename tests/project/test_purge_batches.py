"""The purge deletes backlogs in primary-key batches and leaves live rows alone."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scotaccount_django.management.commands import scotaccount_purge as purge
from scotaccount_django.models import ScotAccountSession

pytestmark = pytest.mark.django_db


def records(count: int, age: timedelta, prefix: str) -> None:
    user = get_user_model().objects.get_or_create(username="someone")[0]
    ScotAccountSession.objects.bulk_create(
        ScotAccountSession(
            issuer="https://i", sid_hash="s", session_key=f"{prefix}-{n}", user=user
        )
        for n in range(count)
    )
    ScotAccountSession.objects.filter(session_key__startswith=prefix).update(
        created_at=timezone.now() - age
    )


def deletes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]


def test_a_backlog_is_deleted_in_batches_of_primary_keys(monkeypatch):
    monkeypatch.setattr(purge, "BATCH_SIZE", 2)
    records(5, timedelta(days=30), "old")
    records(2, timedelta(minutes=10), "live")
    cutoff = timezone.now() - timedelta(days=1)
    with CaptureQueriesContext(connection) as queries:
        deleted = purge.delete_in_batches(ScotAccountSession.objects.filter(created_at__lt=cutoff))
    assert deleted == 5
    assert len(deletes(queries)) == 3  # 2 + 2 + 1, never one statement for the lot
    assert all("IN" in sql for sql in deletes(queries))
    assert sorted(ScotAccountSession.objects.values_list("session_key", flat=True)) == [
        "live-0",
        "live-1",
    ]


def test_the_command_batches_and_keeps_live_records(monkeypatch):
    monkeypatch.setattr(purge, "BATCH_SIZE", 3)
    records(7, timedelta(days=30), "old")
    records(1, timedelta(minutes=1), "live")
    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("scotaccount_purge", stdout=out)
    assert list(ScotAccountSession.objects.values_list("session_key", flat=True)) == ["live-0"]
    assert "Deleted 7 front-channel logout record(s)" in out.getvalue()
    record_deletes = [sql for sql in deletes(queries) if "scotaccountsession" in sql.lower()]
    assert len(record_deletes) == 3


def test_the_command_forgets_sessions_that_can_no_longer_exist(settings):
    user = get_user_model().objects.create_user("someone")
    old = ScotAccountSession.objects.create(
        issuer="https://issuer", sid_hash="a", session_key="old", user=user
    )
    ScotAccountSession.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE, days=1)
    )
    ScotAccountSession.objects.create(
        issuer="https://issuer", sid_hash="b", session_key="live", user=user
    )
    out = io.StringIO()
    call_command("scotaccount_purge", stdout=out)
    assert list(ScotAccountSession.objects.values_list("session_key", flat=True)) == ["live"]
    assert "Deleted 1 front-channel logout record(s) of ended sessions." in out.getvalue()
