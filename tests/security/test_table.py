"""``docs/security.md`` ends with the catalogue table: every id there, every named test real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IDS_FILE = ROOT / "tests" / "data" / "security_catalogue_ids.txt"
TABLE_ROW = re.compile(r"^\| ([A-M]\d+) \| (.+?) \| (.+?) \| (.+) \|$")
#: The shared catalogue, beside the checkout (absent from a newcomer's clone).
SHARED_CATALOGUES = [
    ROOT.parent / "shared" / "SECURITY.md",
    ROOT.parent.parent / "shared" / "SECURITY.md",
]


def catalogue_ids() -> list[str]:
    lines = IDS_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def table() -> dict[str, str]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    rows = [TABLE_ROW.match(line) for line in text.splitlines()]
    return {row.group(1): row.group(4) for row in rows if row}


def defined_test_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        names.update(re.findall(r"def (test_\w+)", path.read_text(encoding="utf-8")))
    return names


def test_every_catalogue_id_has_a_row():
    assert list(table()) == catalogue_ids()


def test_every_named_test_exists_and_is_named_after_its_id():
    existing = defined_test_names()
    for catalogue_id, cell in table().items():
        named = re.findall(r"`(test_\w+)`", cell)
        if not named:
            assert cell.startswith("n/a:"), f"{catalogue_id} names no test and gives no reason"
            continue
        for name in named:
            assert name in existing, f"{catalogue_id}: {name} is not a test in tests/"
            prefix_ids = re.match(r"test_((?:[a-m]\d+_)+)", name)
            assert prefix_ids, name
            assert catalogue_id.lower() in prefix_ids.group(1).split("_"), name


def test_the_id_list_matches_the_shared_catalogue():
    shared = next((path for path in SHARED_CATALOGUES if path.is_file()), None)
    if shared is None:
        pytest.skip("../shared/SECURITY.md is not beside this checkout")
    text = shared.read_text(encoding="utf-8")
    found: list[str] = []
    for line in text.splitlines():
        for match in re.finditer(r"(?:^|(?<=\. )|(?<=/))([A-M]\d+)(?=[ /])", line):
            if match.group(1) not in found:
                found.append(match.group(1))
    assert found == catalogue_ids()
