"""The code blocks in docs/ that tests run, found by the ``<!-- docs-test: ... -->`` marker.

A marker is an HTML comment on the line before a fenced block (invisible in the
built docs): ``run`` blocks are executed, ``pytest`` blocks are run as a test
module, and ``file PATH`` blocks are written into the new project that
``tests/project/test_startproject.py`` builds by following docs/installation.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKED_BLOCK = re.compile(
    r"^<!-- docs-test: (?P<kind>run|pytest|file) ?(?P<arg>\S*) -->\n"
    r"```\w*\n(?P<code>.*?)^```$",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    kind: str
    arg: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(kind: str, page: str | None = None) -> list[Block]:
    """Every block marked ``kind``, in page order (all pages unless ``page`` is named)."""
    found = []
    for path in sorted(DOCS.glob("*.md")):
        if page is not None and path.name != page:
            continue
        text = path.read_text()
        for match in MARKED_BLOCK.finditer(text):
            if match["kind"] == kind:
                line = text.count("\n", 0, match.start()) + 2
                found.append(Block(path.name, line, kind, match["arg"], match["code"]))
    return found
