"""The docs build without warnings, and document every setting and check id."""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from scotaccount_django.checks import MESSAGES
from scotaccount_django.conf import DEFAULTS

DOCS = Path(__file__).resolve().parents[2] / "docs"

#: What docs/reference/api.md must document: backend hooks, decorator, mixin, accessors,
#: signals, exceptions, and the fake's Python API and pytest fixture.
API_SURFACE = [
    *(
        f"backends.ScotAccountBackend.{hook}"
        for hook in (
            "get_settings",
            "get_token",
            "verify_token",
            "get_userinfo",
            "verify_claims",
            "filter_users_by_claims",
            "link_existing_user",
            "create_user",
            "get_username",
            "update_user",
        )
    ),
    "decorators.verified_attributes_required",
    "mixins.VerifiedAttributesRequiredMixin",
    *(
        f"attributes.{accessor}"
        for accessor in (
            "verified_name",
            "verified_birth_date",
            "verified_email",
            "verified_address",
            "is_identity_verified",
            "missing_scopes",
            "purge_attributes",
        )
    ),
    "signals.attributes_received",
    "exceptions.ScotAccountError",
    "exceptions.ProviderUnavailable",
    "exceptions.InvalidIDToken",
    "exceptions.FlowExpired",
    "testing.FakeScotAccount",
    "testing.Persona",
    "testing.JournalEntry",
    "testing.pytest_plugin.fake_scotaccount",
]


def test_every_setting_is_documented_with_its_own_heading() -> None:
    headings = set(
        re.findall(r"^### (SCOTACCOUNT_\w+)$", (DOCS / "settings.md").read_text(), re.M)
    )
    assert headings == set(DEFAULTS)


def settings_sections() -> dict[str, str]:
    """Each ``### SCOTACCOUNT_*`` heading of docs/settings.md, with the text under it."""
    parts = re.split(r"^### (SCOTACCOUNT_\w+)$", (DOCS / "settings.md").read_text(), flags=re.M)
    return {
        name: body.split("\n#", 1)[0] for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def documented(section: str, label: str) -> list[str]:
    """The code spans of the section's ``Type:`` or ``Default:`` line (it must open a line)."""
    line = re.search(rf"^{label}: (.+)$", section, re.M)
    assert line, f"no line starting with {label}:"
    return re.findall(r"`([^`]+)`", line.group(1))


def type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_is_documented_with_its_type_and_default(name: str) -> None:
    section = settings_sections()[name]
    # The default is the first code span of the Default line, written as Python.
    default_spans = documented(section, "Default")
    assert default_spans, "the Default line shows no value in backticks"
    value = eval(default_spans[0], {"__builtins__": {}, "timedelta": timedelta})
    assert value == DEFAULTS[name]
    # The documented type admits the default: `str`, `list[str]`, `None`, ...
    types = documented(section, "Type")
    assert any(
        span == type_name(DEFAULTS[name]) or span.startswith(f"{type_name(DEFAULTS[name])}[")
        for span in types
    ), f"Type: {types} does not include the default's type {type_name(DEFAULTS[name])}"


def test_a_setting_without_type_or_default_is_caught() -> None:
    with pytest.raises(AssertionError, match="no line starting with Type:"):
        documented("Default: `None`. Missing its type.\n", "Type")
    with pytest.raises(AssertionError, match="no line starting with Default:"):
        documented("Type: `str`.\nThe default is only in prose.\n", "Default")


def test_every_check_id_is_in_troubleshooting() -> None:
    text = (DOCS / "troubleshooting.md").read_text()
    assert {check_id for check_id in MESSAGES if f"`{check_id}`" not in text} == set()


def test_docs_build_with_warnings_as_errors(tmp_path) -> None:
    # The tox grid leaves the docs group out: `tox -e docs` and `make docs` build them once.
    sphinx_build = pytest.importorskip(
        "sphinx.cmd.build", reason="Sphinx is not installed (the docs dependency group)"
    )
    build_main = sphinx_build.build_main

    out = tmp_path / "html"
    status = build_main(["-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)])
    assert status == 0
    assert (out / "index.html").exists()
    # MyST parses autodoc's reST output as Markdown unless the directive sits in an
    # eval-rst block, and then the page shows ".. py:class::" as text with no warning.
    api = (out / "reference" / "api.html").read_text(encoding="utf-8")
    assert ".. py:" not in api
    assert 'class="py class"' in api
    # The API reference really holds the public surface (autodoc output in Markdown pages is
    # easy to lose silently, e.g. to a renamed module or an un-evaluated directive).
    assert {name for name in API_SURFACE if f'id="scotaccount_django.{name}"' not in api} == set()
    shutil.rmtree(out)


def test_every_management_command_is_documented() -> None:
    commands_dir = Path(__file__).resolve().parents[2] / "scotaccount_django/management/commands"
    commands = {path.stem for path in commands_dir.glob("scotaccount_*.py")}
    text = (DOCS / "installation.md").read_text()
    assert commands
    assert {command for command in commands if f"manage.py {command}" not in text} == set()


def test_every_diagram_is_drawn_from_its_current_source() -> None:
    diagrams = DOCS / "diagrams"
    sources = sorted(diagrams.glob("*.mmd"))
    assert sources
    for source in sources:
        drawn = source.with_suffix(".svg").read_text().splitlines()[0]
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        assert drawn == f"<!-- source sha256: {digest} -->", (
            f"{source.name} changed: redraw with docs/diagrams/render.py"
        )
