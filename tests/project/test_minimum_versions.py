"""SECURITY L6: the declared dependency floors are the versions CI tests at.

``tests/minimum-versions.txt`` pins every runtime dependency at the floor
``pyproject.toml`` declares; ``tox -e minimum`` installs exactly those pins and
runs the suite, where the last test here confirms they are what got installed.
"""

from __future__ import annotations

import os
from importlib.metadata import requires, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PINS_FILE = ROOT / "tests" / "minimum-versions.txt"


def declared_floors() -> dict[str, Version]:
    """pyproject.toml's runtime floors, read from the installed metadata (any Python)."""
    floors = {}
    for line in requires("scotaccount-django") or []:
        requirement = Requirement(line)
        if requirement.marker is None:  # extras' and groups' lines carry a marker
            (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
            floors[canonicalize_name(requirement.name)] = Version(floor)
    return floors


def pins() -> dict[str, Version]:
    pinned = {}
    for line in PINS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pinned[canonicalize_name(requirement.name)] = Version(spec.version)
    return pinned


def test_l6_every_runtime_dependency_is_pinned_at_its_declared_floor():
    assert pins() == declared_floors()


@pytest.mark.skipif(
    not os.environ.get("SCOTACCOUNT_MINIMUM_VERSIONS"),
    reason="only in the minimum-versions run (tox -e minimum)",
)
def test_l6_the_minimum_run_really_has_the_minimum_versions():
    installed = {name: Version(version(name)) for name in pins()}
    assert installed == pins()
