# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The translations (blocklist/i18n.py): one .po per language, compiled to .mo at build.
LOCALE := blocklist/locale
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(LOCALE)/*/LC_MESSAGES/messages.po))

.PHONY: run test lint bench clean compile messages docs packages

$(STAMP): pyproject.toml isp-feed/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ./isp-feed -e '.[dev]'  # one command: the local isp-feed satisfies the server's dependency
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --domain messages --input-file $< --output-file $@

compile: $(CATALOGS)

# For developers, after changing words in code or templates: extract them into the template (.pot) and merge it
# into each language's .po; then translate what is new (tests/blocklist/test_i18n.py fails until it is).
messages: $(STAMP)
	$(BIN)/pybabel extract --mapping-file babel.cfg --output-file $(LOCALE)/messages.pot --sort-by-file --no-wrap \
		--project be-blocklist --version 0.1.0 blocklist api requisitions isp_feed
	$(BIN)/pybabel update --input-file $(LOCALE)/messages.pot --output-dir $(LOCALE) --domain messages --no-wrap \
		--no-fuzzy-matching --ignore-obsolete

run: $(STAMP) compile
	$(BIN)/blocklist db upgrade
	$(BIN)/blocklist demo
	BLOCKLIST_SESSION_COOKIE_SECURE=false $(BIN)/blocklist serve --host 127.0.0.1 --port 8000  # plain http: no Secure cookie

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy blocklist api isp_feed requisitions isp-feed/isp_feed_client
	$(BIN)/lint-imports

# The Debian packages of the real components (.ci/packages): installed when missing (as root), else the run stops
# at once with the command that installs them; the tests never quietly skip for want of one.
packages:
	.ci/ensure-packages

# First the packages (stop at once), then the rest. The last line says how many tests ran against real components.
# One pytest worker per core (at most 4), each test file on one worker (its module fixtures set up once): most tests
# wait on a server, a daemon or a disk, so two workers on two cores finish well before one.
test: packages $(STAMP) compile lint
	$(BIN)/pytest -q -p no:cacheprovider -n auto --maxprocesses 4 --dist loadfile

bench: $(STAMP) compile
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The manual (docs/, mkdocs.yml) into site/; its configuration table is regenerated from the Settings model first.
docs: $(STAMP)
	$(BIN)/python docs/settings_table.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) var site .pytest_cache .mypy_cache .ruff_cache
