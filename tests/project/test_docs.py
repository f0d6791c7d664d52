"""The docs build without warnings, and document every setting and check id."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from scotaccount_django.checks import MESSAGES
from scotaccount_django.conf import DEFAULTS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented_with_its_own_heading() -> None:
    headings = set(
        re.findall(r"^### (SCOTACCOUNT_\w+)$", (DOCS / "settings.md").read_text(), re.M)
    )
    assert headings == set(DEFAULTS)


def test_every_check_id_is_in_troubleshooting() -> None:
    text = (DOCS / "troubleshooting.md").read_text()
    assert {check_id for check_id in MESSAGES if f"`{check_id}`" not in text} == set()


def test_docs_build_with_warnings_as_errors(tmp_path) -> None:
    from sphinx.cmd.build import build_main

    out = tmp_path / "html"
    status = build_main(["-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)])
    assert status == 0
    assert (out / "index.html").exists()
    # MyST parses autodoc's reST output as Markdown unless the directive sits in an
    # eval-rst block, and then the page shows ".. py:class::" as text with no warning.
    api = (out / "reference" / "api.html").read_text(encoding="utf-8")
    assert ".. py:" not in api
    assert 'class="py class"' in api
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
