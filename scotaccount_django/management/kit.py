"""What the commands share: an argument type, and the kit's commands (listed by ``help``, but
shipped in ``scotaccount-django-testing``, which production never installs)."""

from __future__ import annotations

import importlib.util
from typing import Any

from django.core.management.base import BaseCommand, CommandError

INSTALL_HINT = "pip install scotaccount-django-testing"


def positive(value: str) -> int:
    """An argument type: a whole number of at least 1 (argparse reports anything else)."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class MissingKit(BaseCommand):
    help = f"Needs the testing kit: {INSTALL_HINT}"

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(f"This command is in the testing kit: {INSTALL_HINT}")


def kit_command(module: str) -> type[BaseCommand]:
    """The kit's ``Command`` from ``module``, or one that says in one line what to install."""
    if importlib.util.find_spec("scotaccount_django_testing") is None:
        return MissingKit
    command: type[BaseCommand] = importlib.import_module(module).Command
    return command
