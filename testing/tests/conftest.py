"""The kit's tests: the fixture loaded here, not through its entry point (see pyproject.toml)."""

pytest_plugins = ["scotaccount_django_testing.pytest_plugin"]
