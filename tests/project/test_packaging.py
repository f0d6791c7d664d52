"""The suite can run against the installed wheel, and the wheel carries what it must."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import scotaccount_django
import scotaccount_django_testing

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not os.environ.get("SCOTACCOUNT_TEST_INSTALLED_PACKAGE"),
    reason="only when tox runs the suite against the built wheel",
)
def test_the_package_under_test_is_the_installed_wheel_not_the_checkout() -> None:
    package_dir = Path(scotaccount_django.__file__).resolve().parent
    assert package_dir != CHECKOUT / "scotaccount_django"
    assert package_dir.parent.name == "site-packages"
    # The testing kit too: tox installs its wheel, built from testing/, beside the core's.
    kit_dir = Path(scotaccount_django_testing.__file__).resolve().parent
    assert kit_dir.parent.name == "site-packages"


def test_the_package_ships_its_templates_schema_and_type_marker() -> None:
    package_dir = Path(scotaccount_django.__file__).resolve().parent
    assert (package_dir / "py.typed").is_file()
    assert (package_dir / "templates/scotaccount/base.html").is_file()
    assert list((package_dir / "_internal/schema").glob("*.json"))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """The core's and the kit's wheels, built from the checkout as a release builds them."""
    out = tmp_path_factory.mktemp("dist")
    for source in (CHECKOUT, CHECKOUT / "testing"):
        subprocess.run(
            [sys.executable, "-m", "build", "-q", "--wheel", "--no-isolation", "--outdir", out],
            cwd=source,
            check=True,
            capture_output=True,
            timeout=300,
        )
    built = {path.name.split("-")[0]: path for path in out.glob("*.whl")}
    assert sorted(built) == ["scotaccount_django", "scotaccount_django_testing"]
    return built


def test_the_core_wheel_ships_no_fake_and_registers_no_pytest_plugin(wheels) -> None:
    with zipfile.ZipFile(wheels["scotaccount_django"]) as wheel:
        names = wheel.namelist()
        entry_points = next(
            (wheel.read(name).decode() for name in names if name.endswith("entry_points.txt")),
            "",
        )
        metadata = wheel.read(next(name for name in names if name.endswith("METADATA")))
    # Only the command that delegates to the kit (and says what to install without it).
    assert [name for name in names if "fake" in name] == [
        "scotaccount_django/management/commands/scotaccount_fake.py"
    ]
    assert not [name for name in names if "/testing/" in name or "_testing" in name]
    assert not [name for name in names if "pytest_plugin" in name]
    assert "pytest11" not in entry_points
    assert b"Provides-Extra: testing" in metadata


def test_the_kit_wheel_carries_the_fake_the_plugin_and_the_console_script(wheels) -> None:
    with zipfile.ZipFile(wheels["scotaccount_django_testing"]) as wheel:
        names = wheel.namelist()
        entry_points = wheel.read(
            next(name for name in names if name.endswith("entry_points.txt"))
        ).decode()
    assert "scotaccount_django_testing/fake/provider.py" in names
    assert "scotaccount_django_testing/pytest_plugin.py" in names
    assert "scotaccount_django_testing/py.typed" in names
    assert not [name for name in names if name.startswith("scotaccount_django/")]
    assert "[pytest11]" in entry_points
    assert "scotaccount_django_testing = scotaccount_django_testing.pytest_plugin" in entry_points
    assert "scotaccount-fake = scotaccount_django_testing.fake.__main__:main" in entry_points


def test_both_wheels_pass_twine_check(wheels) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *wheels.values()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2
