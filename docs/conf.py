"""Sphinx configuration: Markdown (MyST) pages, the furo theme, built with warnings as errors."""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The API reference imports the package's models and views, so Django must be set up; the
# smallest configuration that loads the app is enough.
if not settings.configured:
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "scotaccount_django",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        SECRET_KEY="docs-build-only",  # noqa: S106 - never serves a request
        USE_TZ=True,
    )
    django.setup()

project = "scotaccount-django"
author = "scotaccount-django contributors"
copyright = "scotaccount-django contributors"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "diagrams/node_modules"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "furo"
html_title = "scotaccount-django"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
