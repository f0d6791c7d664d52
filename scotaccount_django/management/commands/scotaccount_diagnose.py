"""Check this deployment against ScotAccount before go-live; exit 1 if anything fails."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scotaccount_django._internal import diagnostics


class Command(BaseCommand):
    help = (
        "Check the key, ScotAccount's discovery and JWKS (from this server, so a missing IP "
        "allow-listing shows), the issuer, the redirect and logout URIs, the clock and a "
        "sample client assertion. One line per check; exit status 1 if any fails."
    )
    requires_system_checks: list[str] = []  # diagnose even what the checks would refuse

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        results = list(diagnostics.run())
        ok = all(result.ok for result in results)
        if options["json"]:
            document = {"ok": ok, "checks": [asdict(result) for result in results]}
            self.stdout.write(json.dumps(document, indent=2))
        else:
            for result in results:
                if result.skipped:
                    status = self.style.WARNING("SKIP")
                else:
                    status = self.style.SUCCESS("PASS") if result.ok else self.style.ERROR("FAIL")
                self.stdout.write(f"{status} {result.name}: {result.detail}")
                if "jwk" in result.data:
                    self.stdout.write(json.dumps(result.data["jwk"], indent=2))
        failed = [result.name for result in results if not result.ok]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
