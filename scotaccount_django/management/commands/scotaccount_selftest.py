"""Run our hostile scenarios against this project; exit 1 naming any catalogue id that fails.

The scenarios live in the testing kit, which production need not install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Sign in against a hostile fake ScotAccount, in-process, with this project's settings, "
        "backend, middleware, templates and user model; print PASS/FAIL per security catalogue "
        "id and exit 1 if any fails. The database is left as it was found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--report", type=Path, metavar="PATH", help="also write a Markdown report to PATH"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from scotaccount_django_testing import selftest
        except ImportError:
            raise CommandError(
                "The self-test is in the testing kit: pip install scotaccount-django-testing"
            ) from None
        results = selftest.run_checks()
        self.stdout.write(selftest.table(results))
        if options["report"]:
            options["report"].write_text(selftest.markdown(results), encoding="utf-8")
        failed = [result.check.id for result in results if not result.passed]
        if failed:
            raise CommandError(f"Self-test failed: {', '.join(failed)}")
