"""``manage.py scotaccount_selftest`` without the testing kit: one line saying what to install."""

from __future__ import annotations

import sys

import pytest
from django.core.management import CommandError, call_command


def test_without_the_kit_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scotaccount_django_testing", None)  # not installed
    with pytest.raises(CommandError) as refused:
        call_command("scotaccount_selftest")
    assert refused.value.returncode == 1
    message = str(refused.value)
    assert "\n" not in message
    assert message.endswith("pip install scotaccount-django-testing")
