"""One initial migration, matching the models (nothing is released yet)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

import scotaccount_django


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    call_command("makemigrations", "scotaccount", "--check", "--dry-run", verbosity=0)


def test_there_is_one_initial_migration() -> None:
    folder = Path(scotaccount_django.__file__).parent / "migrations"
    assert sorted(path.name for path in folder.glob("0*.py")) == ["0001_initial.py"]
