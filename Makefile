# Shortcuts for people who have make; each target is a plain command you can run without it.
PYTHON ?= python3
VENV_PY = .venv/bin/python

.PHONY: run test lint bench lock check-deploy

run:  ## install (first time) and start web, worker and beat on the embedded default
	$(PYTHON) manage.py start

test:  ## install (first time) and run the test suite
	$(PYTHON) manage.py test

lint:  ## ruff (lint and format check) and mypy, as CI runs them
	LOOKOUT_DEV=1 $(PYTHON) manage.py --version
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	SECRET_KEY=lint .venv/bin/mypy

bench:  ## run tests/benchmarks, print a table and write benchmarks.json (LOOKOUT_BENCH_QUICK=1: fewer samples)
	$(PYTHON) manage.py test tests/benchmarks -q -p no:cacheprovider

lock:  ## re-pin requirements.lock (the portal) and requirements-dev.lock (plus tests and linters) after changing pyproject.toml
	test -x $(VENV_PY) || $(PYTHON) -m venv .venv
	$(VENV_PY) -m pip install --quiet uv
	$(VENV_PY) -m uv pip compile pyproject.toml --python-version 3.11 \
		--no-emit-package lookout -o requirements.lock --custom-compile-command "make lock"
	$(VENV_PY) -m uv pip compile pyproject.toml --extra dev --constraint requirements.lock --python-version 3.11 \
		--no-emit-package lookout -o requirements-dev.lock --custom-compile-command "make lock"

check-deploy:  ## Django's deployment checklist against the production example environment
	env $$(grep -v '^\#' .env.production.example | xargs) LOOKOUT_READ_DOT_ENV=0 \
		$(PYTHON) manage.py check --deploy --fail-level WARNING
