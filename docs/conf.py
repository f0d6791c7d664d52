"""Sphinx configuration: the docs are Markdown (MyST), built with warnings as errors."""

project = "scotaccount-django"
author = "scotaccount-django contributors"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3
html_theme = "alabaster"
