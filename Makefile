# Two commands on a fresh machine: `make run` starts the whole platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint types tests bench clean messages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/.installed
	$(BIN)/lendflow dev

test: lint types tests

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if [ -f ../shared/tools/check_layers.py ]; then $(BIN)/python ../shared/tools/check_layers.py .; fi

types: $(BIN)/.installed
	$(BIN)/mypy

tests: $(BIN)/.installed
	$(BIN)/pytest

# Translations (docs/web.md): extract every text people read into services/locales/messages.pot, then merge it
# into each language's catalog (new texts arrive empty, for a translator; the tests fail until every one is translated).
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NN_:1,2 --no-wrap --sort-by-file --project=lendflow \
		--copyright-holder=lendflow -o services/locales/messages.pot .
	$(BIN)/pybabel update -i services/locales/messages.pot -d services/locales --no-wrap --no-fuzzy-matching --ignore-obsolete

bench: $(BIN)/.installed
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .lendflow .pytest_cache .mypy_cache .ruff_cache
