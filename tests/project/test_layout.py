"""The package's layering: private protocol work below, the public API above.

``_internal`` may use the foundation modules (settings, exceptions, models and
the token types) and itself, never the public API built on top of it; helpers
never reach into ``views``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scotaccount_django

PACKAGE = Path(scotaccount_django.__file__).parent
#: Public modules that everything may build on.
FOUNDATION = {"conf", "exceptions", "models"}


def imported_modules(path: Path) -> set[str]:
    """Every ``scotaccount_django`` module ``path`` imports, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("scotaccount_django.")}


def public_modules_imported(path: Path) -> set[str]:
    modules = set()
    for name in imported_modules(path):
        parts = name.split(".")
        if parts[1] != "_internal" and parts[1] not in FOUNDATION:
            modules.add(parts[1])
    return modules


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "_internal").glob("*.py")), ids=lambda path: path.name
)
def test_internal_never_imports_the_public_api(path: Path) -> None:
    assert public_modules_imported(path) == set()


def test_the_check_sees_a_public_import(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("from scotaccount_django.attributes import check_scopes\n")
    assert public_modules_imported(module) == {"attributes"}


@pytest.mark.parametrize("name", ["decorators", "middleware", "backends"])
def test_helpers_do_not_reach_into_views(name: str) -> None:
    assert "scotaccount_django.views" not in imported_modules(PACKAGE / f"{name}.py")


def test_every_view_names_the_templates_it_renders() -> None:
    from django.template.loader import get_template
    from django.views import View

    from scotaccount_django import decorators, views

    classes = [
        value
        for value in vars(views).values()
        if isinstance(value, type)
        and issubclass(value, View)
        and value.__module__ == views.__name__
    ]
    assert len(classes) >= 6
    for cls in [*classes, decorators.AttributesUnavailablePage]:
        names = {attr: getattr(cls, attr) for attr in dir(cls) if attr.endswith("template_name")}
        assert "template_name" in names, cls
        for name in names.values():
            get_template(name)
