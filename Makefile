# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/blocklist db upgrade
	$(BIN)/blocklist demo
	BLOCKLIST_SESSION_COOKIE_SECURE=false $(BIN)/blocklist serve --host 127.0.0.1 --port 8000  # plain http: no Secure cookie

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy blocklist api isp_feed requisitions
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
