"""What a release promises: the supported-versions table, tox's grid and the classifiers agree;
the project files a council's review looks for are there; the release workflow publishes
with trusted publishing."""

from __future__ import annotations

import configparser
import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def documented_grid() -> set[tuple[str, str]]:
    """(python, django) pairs marked "yes" in docs/versioning.md's supported-versions table."""
    lines = (ROOT / "docs" / "versioning.md").read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| Python |"))
    djangos = re.findall(r"Django (\d+\.\d+)", header)
    pairs = set()
    for line in lines:
        row = re.match(r"^\| (3\.\d+) \|(.*)\|$", line)
        if row:
            cells = [cell.strip() for cell in row.group(2).split("|")]
            assert set(cells) <= {"yes", "no"}, line
            pairs |= {
                (row.group(1), dj)
                for dj, cell in zip(djangos, cells, strict=True)
                if cell == "yes"
            }
    return pairs


def expand(pattern: str) -> list[str]:
    """tox's brace expansion: ``py{310,311}-django42`` -> two names."""
    parts = re.split(r"\{([^}]*)\}", pattern)
    choices = [[part] if i % 2 == 0 else part.split(",") for i, part in enumerate(parts)]
    return ["".join(combination) for combination in itertools.product(*choices)]


def tox_grid() -> set[tuple[str, str]]:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    pairs = set()
    for pattern in tox["tox"]["env_list"].split():
        for name in expand(pattern):
            env = re.fullmatch(r"py3(\d+)-django(\d)(\d)", name)
            if env:
                pairs.add((f"3.{env.group(1)}", f"{env.group(2)}.{env.group(3)}"))
    return pairs


def classifiers(prefix: str) -> set[str]:
    """The versions in pyproject.toml's ``"<prefix> :: X.Y"`` classifiers."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return set(re.findall(rf'"{re.escape(prefix)} :: (\d+\.\d+)"', text))


def test_the_supported_versions_table_is_the_tox_grid() -> None:
    assert documented_grid() == tox_grid()
    assert len(tox_grid()) == 10  # the brace expansion found the whole grid


def test_the_classifiers_name_every_supported_python_and_django_and_no_other() -> None:
    grid = documented_grid()
    assert classifiers("Programming Language :: Python") == {python for python, _ in grid}
    assert classifiers("Framework :: Django") == {django for _, django in grid}


def test_a_council_review_finds_the_licence_and_policies() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    authors = re.search(
        r'authors = \[\{ name = "([^"]+)" \}\]', (ROOT / "pyproject.toml").read_text()
    )
    assert authors
    assert authors.group(1) in licence
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "security/advisories/new" in security
    assert "Supported versions" in security
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "SCOTACCOUNT_TEST_DB=postgres" in contributing
    assert "chromium" in contributing


def test_the_release_workflow_publishes_with_trusted_publishing_only() -> None:
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert "pypa/gh-action-pypi-publish@" in workflow
    assert "id-token: write" in workflow
    assert "permissions: {}" in workflow  # nothing by default; the publish job alone gets OIDC
    assert workflow.count("id-token: write") == 1
    assert "password" not in workflow
    assert "PYPI_TOKEN" not in workflow
    # Every action pinned to a full commit SHA.
    for use in re.findall(r"uses: (\S+)", workflow):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use), use


def test_the_documentation_url_is_the_hosted_site() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'Documentation = "https://scotaccount-django.readthedocs.io/"' in pyproject
    readthedocs = (ROOT / ".readthedocs.yaml").read_text(encoding="utf-8")
    assert "configuration: docs/conf.py" in readthedocs
    assert "fail_on_warning: true" in readthedocs


def test_docs_cite_no_line_numbers_of_a_file_outside_the_repository() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\blines? \d+", text), page.name
        assert "scotaccount-rp-technical-docs.txt" not in text, page.name


def version_of(pyproject: Path) -> str:
    found = re.search(r'^version = "([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M)
    assert found, pyproject
    return found.group(1)


def test_the_core_and_the_kit_are_released_together() -> None:
    """One version for both distributions; the kit needs exactly the core it was tested with."""
    version = version_of(ROOT / "pyproject.toml")
    assert re.fullmatch(r"\d+\.\d+\.\d+(rc\d+)?", version)  # a release (candidate)
    kit = ROOT / "testing" / "pyproject.toml"
    assert version_of(kit) == version
    assert f'"scotaccount-django=={version}"' in kit.read_text(encoding="utf-8")
    # Each distribution carries the licence (an sdist cannot follow a link out of its folder).
    assert (ROOT / "testing" / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
