"""Bring every stored verified attribute onto the first key; one transaction per batch."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from scotaccount_django._internal import fields
from scotaccount_django.conf import conf
from scotaccount_django.management.kit import positive
from scotaccount_django.models import VerifiedAttribute


class Command(BaseCommand):
    help = "Re-encrypt verified attribute values with the first configured key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=500,
            metavar="ROWS",
            help="Rows per transaction (default 500).",
        )
        parser.add_argument(
            "--after-id",
            type=int,
            default=0,
            metavar="ID",
            help="Resume after this verified attribute id (printed as the command goes).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not conf.ATTRIBUTE_ENCRYPTION_KEYS:
            raise CommandError(
                "SCOTACCOUNT_ATTRIBUTE_ENCRYPTION_KEYS is empty: there is no key to encrypt with."
            )
        last_id, rewritten, checked = options["after_id"], 0, 0
        while True:
            with transaction.atomic():
                batch = list(
                    VerifiedAttribute.objects.select_for_update()
                    .filter(pk__gt=last_id)
                    .order_by("pk")
                    # The stored text, not the decrypted value: which key sealed it matters.
                    .values_list("pk", Cast("claims", TextField()))[: options["batch_size"]]
                )
                for pk, stored_text in batch:
                    stored = json.loads(stored_text)
                    if not fields.is_current(stored):
                        VerifiedAttribute.objects.filter(pk=pk).update(
                            claims=fields.unseal(stored)
                        )
                        rewritten += 1
            if not batch:
                break
            checked += len(batch)
            last_id = batch[-1][0]
            self.stdout.write(f"Checked up to id {last_id}: {checked} rows, {rewritten} changed.")
        self.stdout.write(f"Done: {rewritten} of {checked} verified attribute(s) re-encrypted.")
