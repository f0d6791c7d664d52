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

from django.core.management.base import BaseCommand, CommandParser

from scotaccount_django import audit
from scotaccount_django._internal.sessions import purge_records
from scotaccount_django.attributes import purge_attributes


def positive_days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise ValueError(value)
    return days


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
        records = purge_records()
        self.stdout.write(f"Deleted {records} front-channel logout record(s) of ended sessions.\n")
        days = options["attributes_older_than"]
        if days is None:
            audit.emit("purged", session_records=records)
            return
        result = purge_attributes(timedelta(days=days))
        self.stdout.write(
            f"Deleted {result.attributes} verified attribute(s) and "
            f"{result.requests} attribute request record(s) older than {days} days.\n"
        )
        audit.emit(
            "purged",
            session_records=records,
            attributes=result.attributes,
            attribute_requests=result.requests,
            older_than_days=days,
        )
