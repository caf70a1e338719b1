# The two commands of the README: `make serve` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test validate lint clean world figures system-deps

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The world data: the bundled pair lists imported into graph/data/world/ (generated, not
# committed), again whenever a list or the importer changes.
WORLD_INPUTS := graph/data/sources/world/sources.yaml $(wildcard graph/data/sources/world/*/*.csv \
	graph/data/sources/world/*/*.tsv) graph/importer.py graph/import_pairs.py graph/reconcile.py \
	graph/countries.py
WORLD_STAMP  := graph/data/world/.imported

$(WORLD_STAMP): $(STAMP) $(WORLD_INPUTS)
	$(BIN)/citydip import world
	touch $(WORLD_STAMP)

world: $(WORLD_STAMP)

figures: $(WORLD_STAMP)
	$(BIN)/citydip import figures

# Serves the report and the world data (CITYDIP_DATASETS=report to serve the report alone).
serve: $(STAMP) $(WORLD_STAMP)
	CITYDIP_DATASETS=$${CITYDIP_DATASETS:-report,world} $(BIN)/citydip serve --host 127.0.0.1 --port 8000

# Chromium and the CJK fonts first: installed when root with apt-get, else one line saying what
# to install, before anything else runs.
system-deps:
	@scripts/system-deps.sh

test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q

validate: $(STAMP)
	$(BIN)/citydip validate graph/data

lint: $(STAMP)
	$(BIN)/ruff check graph server tests

clean:
	rm -rf $(VENV) var .pytest_cache graph/data/world/*.nt graph/data/world/*.json $(WORLD_STAMP)
