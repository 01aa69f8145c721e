# One entry point for a fresh machine. `make reproduce` and `make test` set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup reproduce test lint typecheck browser bench docs clean catalogue claims

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/deepdyn reproduce $(ARGS)

# deepdyn list/show read the catalogue's metadata from src/deepdyn/catalogue.json (no torch):
# regenerate it after adding or changing an entry (tests/test_front_door.py checks it).
catalogue: claims
	$(BIN)/python -m deepdyn._catalogue

# docs/theory-checks.md (the thesis item by item) and docs/theory-claims.md, generated from the
# catalogue's claims; tests fail when they differ from the registry.
claims: $(STAMP)
	$(BIN)/python -c "from deepdyn.experiments._thesis_index import write_docs; write_docs()"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The playground's end-to-end test drives Debian's chromium (Playwright's own download fails on
# these machines); without it that one test is skipped, with a note.
browser:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -qq chromium >/dev/null 2>&1 \
	  || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1) \
	  || echo "note: could not install Debian's chromium; the browser test will be skipped"

test: lint typecheck browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The documentation site (mkdocs-material; the API reference generated from the docstrings):
# site/index.html. --strict: a warning (a broken link, a missing page) fails the build.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python benchmarks/ensemble_init.py

clean:
	rm -rf $(VENV) deepdyn-report site
