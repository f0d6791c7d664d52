"""The docs build without warnings, and document every setting and check id."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from scotaccount_django.checks import MESSAGES
from scotaccount_django.conf import SETTINGS, python_literal

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
    "decorators.VerifiedAttributesRequiredMixin",
    *(
        f"attributes.{accessor}"
        for accessor in (
            "verified_name",
            "verified_birth_date",
            "verified_email",
            "verified_address",
            "is_identity_verified",
            "missing_scopes",
        )
    ),
    "signals.attributes_received",
    "exceptions.ScotAccountError",
    "exceptions.ProviderUnavailable",
    "exceptions.InvalidIDToken",
    "exceptions.FlowExpired",
]
#: The testing kit's (scotaccount_django_testing) documented names.
KIT_SURFACE = [
    "FakeScotAccount",
    "Persona",
    "JournalEntry",
    "pytest_plugin.fake_scotaccount",
]


BEGIN = (
    "<!-- generated from the rows of scotaccount_django/conf.py by tests/project/test_docs.py -->"
)
END = "<!-- end of the generated reference -->"


def settings_reference() -> str:
    """The reference section of docs/settings.md, written from the table in conf.py."""
    lines = []
    for row in SETTINGS:
        default = python_literal(row.default)
        lines += [f"### {row.name}", f"Type: {row.kind.expected}. Default: `{default}`.", ""]
        lines += [row.doc, ""]
    return "\n".join(lines)


def test_the_settings_reference_is_the_table_exactly() -> None:
    """Set SCOTACCOUNT_WRITE_DOCS=1 to regenerate it after changing a row."""
    path = DOCS / "settings.md"
    head, rest = path.read_text().split(BEGIN + "\n")
    documented, tail = rest.split(END)
    if os.environ.get("SCOTACCOUNT_WRITE_DOCS"):
        documented = settings_reference()
        path.write_text(f"{head}{BEGIN}\n{documented}{END}{tail}")
    assert documented == settings_reference()


def test_at_most_20_settings_each_with_its_own_heading() -> None:
    headings = re.findall(r"^### (SCOTACCOUNT_\w+)$", (DOCS / "settings.md").read_text(), re.M)
    assert headings == [row.name for row in SETTINGS]
    assert len(SETTINGS) <= 20


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
    kit = "scotaccount_django_testing"
    assert {name for name in KIT_SURFACE if f'id="{kit}.{name}"' not in api} == set()
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
