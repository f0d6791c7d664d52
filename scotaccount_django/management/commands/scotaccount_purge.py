"""Delete what no longer needs keeping: expired flows (run it daily, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from scotaccount_django.models import AuthorizationFlow


class Command(BaseCommand):
    help = "Delete expired ScotAccount flows."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted, _ = AuthorizationFlow.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted} expired flow(s).\n")
