"""Building the URLs that send the browser to ScotAccount's endpoints."""

from __future__ import annotations

from urllib.parse import urlencode


def with_query(endpoint: str, params: dict[str, str]) -> str:
    """``endpoint`` with ``params`` appended, keeping any query it already has."""
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"
