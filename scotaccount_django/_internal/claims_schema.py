"""ScotAccount's verified-claims schema, applied by a validator for exactly what it uses.

The schema (``schema/verified-claims.schema.json``) is ScotAccount's, copied
verbatim. Its ``verified_claims.items`` lists ``scope``/``verification``/
``claims`` outside ``properties``, so applying it literally constrains nothing;
callers validate each entry against the ``$defs`` it names instead.

Only the keywords the schema uses are understood. Any other keyword is refused
when the schema is loaded, so a future edit cannot silently stop validating.
A value that passes comes back *cleaned*: object properties the schema does not
declare are dropped, so nothing unexpected is ever stored.
"""

from __future__ import annotations

import datetime
import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

SCHEMA_RESOURCE = "verified-claims.schema.json"

#: Keywords that carry no constraint.
ANNOTATIONS = frozenset({"description", "descriptions", "title", "$comment"})
#: Keywords this validator applies.
KEYWORDS = frozenset(
    {"type", "enum", "maxLength", "pattern", "format", "properties", "required", "$ref"}
)
FORMATS = frozenset({"date", "date-time", "uuid", "email", "uri"})

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: RFC 3986 absolute URI: a scheme, then no whitespace.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: RFC 5321's limit on a forward path; the schema itself sets none.
MAX_EMAIL_LENGTH = 254

Schema = dict[str, Any]


class SchemaViolation(ValueError):
    """Raised when a value breaks the schema; the message names the path, never the value."""


@cache
def definitions() -> dict[str, Schema]:
    """The schema's ``$defs``, loaded once and checked for keywords we do not apply."""
    text = (files("scotaccount_django._internal") / "schema" / SCHEMA_RESOURCE).read_text()
    defs: dict[str, Schema] = json.loads(text)["$defs"]
    for name, schema in defs.items():
        _check_keywords(schema, f"$defs/{name}")
    return defs


def _check_keywords(schema: Schema, where: str) -> None:
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise RuntimeError(f"{where} uses unsupported keywords {sorted(unknown)}")
    if schema.get("format") is not None and schema["format"] not in FORMATS:
        raise RuntimeError(f"{where} uses unsupported format {schema['format']!r}")
    for name, sub in schema.get("properties", {}).items():
        _check_keywords(sub, f"{where}/{name}")


def validate(value: Any, definition: str) -> Any:
    """``value`` checked against ``$defs/<definition>``, cleaned; ``SchemaViolation`` if not."""
    return _apply(value, definitions()[definition], definition)


def _apply(value: Any, schema: Schema, path: str) -> Any:
    ref = schema.get("$ref")
    if ref is not None:
        return _apply(value, definitions()[ref.removeprefix("#/$defs/")], path)
    _check_type(value, schema.get("type"), path)
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaViolation(f"{path} is not one of the allowed values")
    if isinstance(value, str):
        _check_string(value, schema, path)
    if isinstance(value, dict):
        return _check_object(value, schema, path)
    return value


def _check_type(value: Any, expected: str | None, path: str) -> None:
    matches = {
        None: True,
        "string": isinstance(value, str),
        "object": isinstance(value, dict),
        "integer": isinstance(value, int) and not isinstance(value, bool),
    }
    if not matches.get(expected, False):
        raise SchemaViolation(f"{path} is not of type {expected}")


def _check_string(value: str, schema: Schema, path: str) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaViolation(f"{path} is longer than {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(_ecma_pattern(schema["pattern"]), value):
        raise SchemaViolation(f"{path} does not match its pattern")
    if "format" in schema and not conforms(value, schema["format"]):
        raise SchemaViolation(f"{path} is not a valid {schema['format']}")


def _ecma_pattern(pattern: str) -> str:
    # Python's ``$`` also matches before a trailing newline; JSON Schema's does not,
    # so "123\n" would pass ``^[0-9]+$`` as a UPRN without this.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _check_object(value: dict[str, Any], schema: Schema, path: str) -> dict[str, Any]:
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaViolation(f"{path}.{name} is required")
    properties: dict[str, Schema] = schema.get("properties", {})
    return {
        name: _apply(item, properties[name], f"{path}.{name}")
        for name, item in value.items()
        if name in properties
    }


def conforms(value: str, fmt: str) -> bool:
    """Whether ``value`` is a valid ``fmt`` (one of ``FORMATS``)."""
    if fmt == "date":
        return _DATE.fullmatch(value) is not None and _parses(datetime.date.fromisoformat, value)
    if fmt == "date-time":
        return _DATE_TIME.fullmatch(value) is not None and parse_date_time(value) is not None
    if fmt == "uuid":
        return _UUID.fullmatch(value) is not None
    if fmt == "uri":
        return _URI.fullmatch(value) is not None
    if fmt == "email":
        return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(value) is not None
    raise ValueError(f"unsupported format {fmt!r}")


def parse_date_time(value: str) -> datetime.datetime | None:
    """An RFC 3339 date-time as an aware ``datetime``, or None."""
    normalised = value.upper().replace("Z", "+00:00")
    # Python < 3.11 accepts at most 6 fractional digits.
    normalised = re.sub(r"(\.\d{6})\d+", r"\1", normalised)
    try:
        parsed = datetime.datetime.fromisoformat(normalised)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _parses(parser: Any, value: str) -> bool:
    try:
        parser(value)
    except ValueError:
        return False
    return True
