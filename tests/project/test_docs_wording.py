"""The page wording the docs quote is the wording the pages have.

Docs quote a heading, button or label of a page with MyST's ``{guilabel}`` role
(rendered as a UI label); each one must appear in a template, or in a string of the
code that renders pages (error pages, labels, the fake ScotAccount's pages).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE_SOURCES = [ROOT / "scotaccount_django", ROOT / "example_project", ROOT / "testing"]
GUILABEL = re.compile(r"\{guilabel\}`([^`]+)`")


def words(text: str) -> str:
    return " ".join(text.split())


def template_text(path: Path) -> str:
    """A template's words: ``{% translate "X" %}`` becomes X, other tags become breaks."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"""\{%\s*translate\s+(["'])(.*?)\1\s*%\}""", r"\2", text)
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}|<[^>]+>", " | ", text, flags=re.S)
    return words(text.replace("&#x27;", "'"))


def code_strings(path: Path) -> list[str]:
    """Every string literal of a module but its docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        words(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@cache
def page_wording() -> tuple[str, ...]:
    found: list[str] = []
    for source in PAGE_SOURCES:
        found += [template_text(path) for path in source.rglob("*.html")]
        for path in source.rglob("*.py"):
            if "migrations" not in path.parts:
                found += code_strings(path)
    return tuple(found)


def on_a_page(quote: str) -> bool:
    return any(words(quote) in text for text in page_wording())


def quotes() -> list[tuple[str, str]]:
    return [
        (page.name, quote)
        for page in sorted((ROOT / "docs").rglob("*.md"))
        if "_build" not in page.parts
        for quote in GUILABEL.findall(page.read_text(encoding="utf-8"))
    ]


def test_the_docs_quote_page_wording_with_guilabel() -> None:
    pages = {page for page, _ in quotes()}
    assert {"templates.md", "troubleshooting.md", "attributes.md", "sessions.md"} <= pages


@pytest.mark.parametrize(("page", "quote"), quotes(), ids=lambda value: str(value)[:40])
def test_each_quoted_heading_button_and_label_is_on_a_page(page, quote) -> None:
    assert on_a_page(quote), f"docs/{page} quotes {quote!r}, which no page says"


@pytest.mark.parametrize(
    "stale", ["We could not get some of your details", "Try sharing your details later"]
)
def test_wording_no_page_has_is_noticed(stale) -> None:
    assert not on_a_page(stale)


def test_the_old_quotes_are_gone_from_the_docs() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        assert "We could not get some of your" not in page.read_text(encoding="utf-8"), page
