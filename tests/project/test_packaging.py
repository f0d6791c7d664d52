"""The suite can run against the installed wheel, and the wheel carries what it must."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import scotaccount_django

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not os.environ.get("SCOTACCOUNT_TEST_INSTALLED_PACKAGE"),
    reason="only when tox runs the suite against the built wheel",
)
def test_the_package_under_test_is_the_installed_wheel_not_the_checkout() -> None:
    package_dir = Path(scotaccount_django.__file__).resolve().parent
    assert package_dir != CHECKOUT / "scotaccount_django"
    assert package_dir.parent.name == "site-packages"


def test_the_package_ships_its_templates_schema_and_type_marker() -> None:
    package_dir = Path(scotaccount_django.__file__).resolve().parent
    assert (package_dir / "py.typed").is_file()
    assert (package_dir / "templates/scotaccount/base.html").is_file()
    assert list((package_dir / "_internal/schema").glob("*.json"))
