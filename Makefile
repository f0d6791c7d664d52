# Two entry points for newcomers (see README.md): `make demo` and `make test`.
# Each one creates .venv with everything it needs, so a fresh machine with only
# Python 3.10+ and make is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck docs bench check clean messages

$(STAMP): pyproject.toml testing/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . -e testing --group dev
	touch $(STAMP)

demo: $(STAMP)  ## Fake ScotAccount + the example council site on localhost.
	$(BIN)/python example_project/run_demo.py

test: $(STAMP)  ## The whole test suite, then sign-in and step-up with a custom user model.
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)
	$(BIN)/python -m pytest -n auto --ds=tests.settings_custom_user -m any_user_model $(PYTEST_ARGS) --no-cov

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy scotaccount_django testing/src/scotaccount_django_testing

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e . -e testing --group bench
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## Every speed and memory figure vs mozilla-django-oidc (docs/performance.md).
	$(BIN)/python -m tests.benchmarks.run $(BENCH_ARGS)

messages: $(STAMP)  ## Refresh the translation template after changing user-facing strings.
	cd scotaccount_django && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. \
		../$(BIN)/django-admin makemessages -l en --no-location --no-obsolete

check: test lint typecheck  ## Everything CI runs.

clean:
	rm -rf $(VENV) docs/_build example_project/.demo
