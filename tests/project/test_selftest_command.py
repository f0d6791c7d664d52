"""``manage.py scotaccount_selftest`` without the testing kit: one line saying what to install."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from django.core.management import CommandError, call_command

from scotaccount_django.management.commands import scotaccount_selftest


@pytest.fixture
def without_the_kit(monkeypatch):
    """The command module as it loads where ``scotaccount-django-testing`` is not installed."""
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "scotaccount_django_testing" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    yield importlib.reload(scotaccount_selftest)
    monkeypatch.undo()
    importlib.reload(scotaccount_selftest)


def test_without_the_kit_it_says_what_to_install(without_the_kit):
    with pytest.raises(CommandError) as refused:
        call_command(without_the_kit.Command())
    assert refused.value.returncode == 1
    assert "\n" not in str(refused.value)
    assert str(refused.value).endswith("pip install scotaccount-django-testing")


def test_with_the_kit_it_runs_the_kits_command():
    assert scotaccount_selftest.Command.__module__ == "scotaccount_django_testing.selftest.command"
