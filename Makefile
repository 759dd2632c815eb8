# The two commands that matter: `make run` and `make test`. See README.md.
.PHONY: run test check fix bench loadtest services stop setup vendor messages docs release clean

VENV ?= .venv

run:  ## set up, start everything and serve http://localhost:8000 (Ctrl-C stops it)
	@bash scripts/run.sh

test:  ## set up and run the whole test suite, browser tests included (with coverage)
	@bash scripts/test.sh $(ARGS)

check:  ## formatting, lint, types, migrations, Django's system checks and the docs
	@bash scripts/setup.sh
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	DEBUG=1 $(VENV)/bin/mypy
	@STARTED_FILE=.run/started.check bash scripts/services.sh start
	DEBUG=1 $(VENV)/bin/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(VENV)/bin/python manage.py check
	@STARTED_FILE=.run/started.check bash scripts/services.sh stop-started
	@$(MAKE) --no-print-directory docs

fix:  ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench:  ## benchmarks: simulator, sync and dashboards (prints medians and ratios)
	@bash scripts/bench.sh

setup:  ## install system packages, the virtualenv and requirements
	@bash scripts/setup.sh

services:  ## start the private Postgres and Redis (data under .run/)
	@STARTED_FILE=.run/started.manual bash scripts/services.sh start

stop:  ## stop the private Postgres and Redis
	@bash scripts/services.sh stop

vendor:  ## refresh tracpro/static/vendor from package.json (needs npm)
	npm ci --ignore-scripts --no-audit --no-fund
	$(VENV)/bin/python scripts/vendor_assets.py

messages:  ## extract translatable strings and compile the catalogues
	DEBUG=1 $(VENV)/bin/python manage.py makemessages --all --no-location --no-obsolete --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'tracpro/simulator/*' --ignore 'tracpro/static/vendor/*' --ignore 'docs/*' --ignore 'conf/*'
	DEBUG=1 $(VENV)/bin/python manage.py compilemessages --ignore '.venv/*'

docs:  ## build the documentation site into docs/_build/html (warnings are errors)
	DEBUG=1 $(VENV)/bin/sphinx-build --fail-on-warning --nitpicky --quiet --builder html docs docs/_build/html

release:  ## set the version, date the changelog, commit and tag: make release VERSION=x.y.z
	@bash scripts/release.sh $(VERSION)

clean:  ## remove the virtualenv and all local data (.run/)
	@bash scripts/services.sh stop
	rm -rf $(VENV) .run staticfiles docs/_build .mypy_cache .coverage htmlcov

loadtest:  ## the production stack under load (not part of `make test`); ORGS=50: many orgs
	@bash scripts/loadtest.sh $(if $(ORGS),--orgs $(ORGS)) $(ARGS)
