"""docs/testing.md lists every persona and every fault, and stays plain Markdown."""

from __future__ import annotations

import re
from pathlib import Path

from scotaccount_django_testing import FAULTS, PERSONAS
from scotaccount_django_testing.fake.scenarios import (
    TRANSPORT_ENDPOINTS,
    TRANSPORT_KINDS,
    TRANSPORT_STATUSES,
)

DOCS = (Path(__file__).parents[2] / "docs" / "testing.md").read_text(encoding="utf-8")


def test_every_persona_is_documented_with_its_sub():
    for persona in PERSONAS.values():
        assert f"| `{persona.id}` | `{persona.sub}` |" in DOCS


def test_every_fault_is_documented():
    for name, spec in FAULTS.items():
        if spec.target in TRANSPORT_ENDPOINTS:
            kind = name.removeprefix(f"{spec.target}_")
            pattern = "`<endpoint>_http_" if kind.startswith("http_") else "`<endpoint>_"
            assert f"{pattern}{kind.removeprefix('http_')}`" in DOCS, name
            assert f"`{spec.target}`" in DOCS
        else:
            assert f"| `{name}` |" in DOCS, name
    assert len(TRANSPORT_KINDS) + len(TRANSPORT_STATUSES) == len(
        [name for name in FAULTS if name.startswith("jwks_")]
    )


def test_no_raw_html():
    outside_code = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", DOCS, flags=re.S))
    assert not re.search(r"<[a-zA-Z/]", outside_code)
