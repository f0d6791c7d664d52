"""No index on this app's tables that another index already provides."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def indexes(table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        (name, tuple(info["columns"]), bool(info["unique"] or info["primary_key"]))
        for name, info in constraints.items()
        if info["index"] or info["unique"] or info["primary_key"]
    ]


def redundant(table: str) -> list[str]:
    """An index is redundant if another has the same columns, or it leads another and is
    not unique (a unique index enforces something even when another covers its lookups)."""
    found = indexes(table)
    return [
        f"{name} {columns} (covered by {other})"
        for name, columns, unique in found
        for other, other_columns, other_unique in found
        if other != name
        and other_columns[: len(columns)] == columns
        and (
            (not unique and (len(columns) < len(other_columns) or other_unique))
            or (len(columns) == len(other_columns) and unique == other_unique and name > other)
        )
    ]


@pytest.mark.parametrize(
    "model",
    list(apps.get_app_config("scotaccount").get_models()),
    ids=lambda model: model.__name__,
)
def test_no_redundant_indexes(model):
    assert redundant(model._meta.db_table) == []
