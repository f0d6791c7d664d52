"""The Python examples in docs/ run as written (see tests/docs_blocks.py for the marker)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_blocks import DOCS, blocks

ROOT = Path(__file__).resolve().parents[2]
RUN, PYTEST = blocks("run"), blocks("pytest")


def test_markers_are_well_formed() -> None:
    pages = [path.read_text() for path in DOCS.glob("*.md")]
    marked = sum(len(re.findall(r"^<!-- docs-test:", text, re.M)) for text in pages)
    assert marked == len(RUN) + len(PYTEST) + len(blocks("file")) > 0


@pytest.mark.parametrize("block", RUN, ids=[block.name for block in RUN])
def test_run_examples_execute(block) -> None:
    exec(compile(block.code, block.name, "exec"), {"__name__": "docs_example"})


@pytest.mark.processes
@pytest.mark.parametrize("block", PYTEST, ids=[block.name for block in PYTEST])
def test_pytest_examples_pass(block, tmp_path) -> None:
    module = tmp_path / "test_docs_example.py"
    module.write_text(block.code)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--ds=tests.settings",
            str(module),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
