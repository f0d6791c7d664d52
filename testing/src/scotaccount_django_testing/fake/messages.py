"""The request and response values every endpoint handler works with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


@dataclass(frozen=True)
class Request:
    """One HTTP request, already parsed; header names are lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def field(self, name: str) -> str | None:
        """The first value of a form field."""
        values = self.form.get(name)
        return values[0] if values else None

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated form field (checkboxes)."""
        return list(self.form.get(name, []))

    def flat_params(self) -> dict[str, str]:
        """Query and form parameters in one mapping, for the journal."""
        merged = {**self.query, **self.form}
        return {name: ",".join(values) for name, values in merged.items()}


@dataclass
class Response:
    """What a handler answers. ``delay`` stalls first; ``drop`` closes without answering;
    ``trickle`` sends the body one byte per that many seconds; ``truncate`` sends
    half the body its ``Content-Length`` promises, then closes."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    drop: bool = False
    trickle: float = 0.0
    truncate: bool = False


def parse_pairs(text: str) -> dict[str, list[str]]:
    """Parse ``a=1&b=2`` keeping repeated names."""
    parsed: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        parsed.setdefault(name, []).append(value)
    return parsed


def json_response(status: int, data: Any) -> Response:
    """A JSON answer that no cache keeps (tokens and errors alike)."""
    return Response(
        status,
        json.dumps(data).encode(),
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
    )


def oauth_error(status: int, error: str, description: str) -> Response:
    """The ``{"error", "error_description"}`` body ScotAccount documents."""
    return json_response(status, {"error": error, "error_description": description})


def html_response(status: int, page: str) -> Response:
    """An HTML page; never framed, never cached."""
    return Response(
        status,
        page.encode(),
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Frame-Options", "DENY"),
        ],
    )


def redirect(location: str, status: int = 302) -> Response:
    """A redirect, 302 as ScotAccount answers unless told otherwise."""
    return Response(status, b"", [("Location", location), ("Cache-Control", "no-store")])


def with_query(url: str, params: dict[str, str | None]) -> str:
    """Append parameters to a URL, keeping any it already has; ``None`` values are left out."""
    parts = urlsplit(url)
    extra = urlencode({name: value for name, value in params.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query and extra else parts.query or extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
