"""The package as a whole: checks, commands, admin, pages, docs, layout, packaging."""
