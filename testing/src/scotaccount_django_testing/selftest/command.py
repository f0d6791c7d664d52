"""``manage.py scotaccount_selftest [--report PATH]``: registered by the core, run from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scotaccount_django_testing.selftest.report import markdown, run_checks, table


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
        results = run_checks()
        self.stdout.write(table(results))
        if options["report"]:
            options["report"].write_text(markdown(results), encoding="utf-8")
        failed = [result.check.id for result in results if not result.passed]
        if failed:
            raise CommandError(f"Self-test failed: {', '.join(failed)}")
