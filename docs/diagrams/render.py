"""Redraw the documentation's sequence diagrams: each ``*.mmd`` here becomes ``*.svg``.

The SVGs are committed so the docs show the diagrams with no network and no JavaScript.
Run after editing a ``.mmd`` file (needs Node's npm and Debian's chromium)::

    npm ci --prefix docs/diagrams
    .venv/bin/python docs/diagrams/render.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
MERMAID = HERE / "node_modules/mermaid/dist/mermaid.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(path=str(MERMAID))
        page.evaluate(
            "mermaid.initialize({startOnLoad: false, theme: 'neutral',"
            " sequence: {useMaxWidth: true, mirrorActors: false}})"
        )
        for source in sorted(HERE.glob("*.mmd")):
            svg = page.evaluate(
                f"mermaid.render('diagram', {json.dumps(source.read_text())}).then(r => r.svg)"
            )
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            # The source's digest lets the test suite notice a .mmd edited without a redraw.
            source.with_suffix(".svg").write_text(f"<!-- source sha256: {digest} -->\n{svg}\n")
            print(f"drew {source.with_suffix('.svg').name}")
        browser.close()


if __name__ == "__main__":
    main()
