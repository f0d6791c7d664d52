# Two entry points for newcomers (see README.md): `make demo` and `make test`.
# Each one creates .venv with everything it needs, so a fresh machine with only
# Python 3.10+ and make is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck docs bench check clean messages release-check mutate

DEMO_STAMP := $(VENV)/.installed-demo
# The venv gets no pip of its own at first: ensurepip alone took 13 s of a busy machine's
# first `make demo`. The outer pip installs into it (pip >= 22.3 has --python); where there
# is no such pip, the venv gets its own after all.
PIP = $(if $(wildcard $(BIN)/pip),$(BIN)/python -m pip,$(PYTHON) -m pip --python $(BIN)/python)

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -c 'import pip, sys; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (22, 3))' \
		2>/dev/null || $(BIN)/python -m ensurepip --default-pip >/dev/null

# Everything: the test, docs, lint, release and browser tools (dependency group dev).
$(STAMP): pyproject.toml testing/pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . -e testing --group dev
	touch $(STAMP) $(DEMO_STAMP)

# The demo needs only the runtime dependencies of the package and the testing kit (the fake
# ScotAccount): run_demo.py runs both from this checkout, so nothing is built. A new machine
# serves the first page in seconds, not minutes (README). No byte-compiling all of Django
# up front either: Python compiles what the demo imports.
$(DEMO_STAMP): example_project/requirements.txt | $(BIN)/python
	$(PIP) install --quiet --disable-pip-version-check --no-compile \
		-r example_project/requirements.txt
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)  ## Fake ScotAccount + the example council site on localhost.
	@$(BIN)/python example_project/run_demo.py

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

# Security-critical code under mutation testing: mutmut mutant-name globs, one per function
# or module (docs/testing.md). Change this list when the code moves.
MUTATE_TARGETS ?= \
	scotaccount_django._internal.flows.x_safe_next_url* \
	scotaccount_django._internal.flows.x_next_or_default* \
	scotaccount_django._internal.flows.x_read_query_parameters* \
	scotaccount_django._internal.flows.x_consume* \
	scotaccount_django._internal.flows.x_unseal* \
	scotaccount_django._internal.flows.x__crowded_out* \
	scotaccount_django._internal.jwtkit.x_verify_* \
	scotaccount_django._internal.jwtkit.x__decode* \
	scotaccount_django._internal.jwtkit.x_parse_sub* \
	scotaccount_django._internal.jwtkit.x_select_key* \
	scotaccount_django._internal.jwtkit.x__usable_key* \
	scotaccount_django._internal.provider.x__read_body* \
	scotaccount_django._internal.provider.*ProviderResponse*json_object* \
	scotaccount_django.backends.*filter_users_by_claims* \
	scotaccount_django.backends.*link_existing_user* \
	scotaccount_django.backends.*started_by_id* \
	scotaccount_django.backends.*update_user* \
	scotaccount_django.admin.* \
	scotaccount_django.reporting.*
# The tests mutmut may run; for each mutant it runs only those that reach the mutated function.
MUTATE_TESTS ?= tests/security tests/sign_in tests/logout tests/back_channel tests/attributes \
	tests/project/test_log_forging.py tests/project/test_audit_log.py \
	--ignore=tests/security/test_table.py --ignore=tests/attributes/test_example_project.py
MUTATE_STAMP := $(VENV)/.installed-mutate

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e . --group mutate
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)  ## Mutation testing of the security-critical code (slow; not in CI).
	$(BIN)/python -m tests.mutation.run --tests "$(MUTATE_TESTS)" $(MUTATE_TARGETS)

messages: $(STAMP)  ## Refresh the translation template after changing user-facing strings.
	cd scotaccount_django && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. \
		../$(BIN)/django-admin makemessages -l en --no-location --no-obsolete

check: test lint typecheck  ## Everything CI runs.

release-check: $(STAMP)  ## Both wheels and sdists in dist/, a CycloneDX SBOM per wheel, twine check.
	$(BIN)/python tools/release_check.py

clean:
	rm -rf $(VENV) docs/_build example_project/.demo
