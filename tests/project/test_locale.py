"""The translation template (``scotaccount_django/locale/en/LC_MESSAGES/django.po``) is current."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

import scotaccount_django

PACKAGE = Path(scotaccount_django.__file__).parent
TEMPLATE = Path("locale/en/LC_MESSAGES/django.po")
#: What ``make messages`` runs (from the package folder), as keyword arguments.
MAKEMESSAGES = {
    "locale": ["en"],
    "no_location": True,  # line numbers would change the file on every unrelated edit
    "no_obsolete": True,
    "ignore_patterns": ["testing/*"],  # the fake ScotAccount speaks English only
}


def without_creation_date(text: str) -> str:
    return re.sub(r'"POT-Creation-Date: [^"]*"\n', "", text)


def test_the_locale_template_is_what_makemessages_makes(tmp_path, monkeypatch):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    copy = tmp_path / "scotaccount_django"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)
    call_command("makemessages", verbosity=0, **MAKEMESSAGES)
    committed = (PACKAGE / TEMPLATE).read_text(encoding="utf-8")
    made = (copy / TEMPLATE).read_text(encoding="utf-8")
    assert without_creation_date(made) == without_creation_date(committed), (
        "User-facing strings changed: run `make messages` and commit the locale template."
    )


def test_every_page_string_is_in_the_template():
    template = (PACKAGE / TEMPLATE).read_text(encoding="utf-8")
    for text in (
        "You have been signed out",
        "Try signing in again",
        "Continue without sharing your details",
        "Your address",
    ):
        assert f'msgid "{text}"' in template
