# The two commands of the README: `make serve` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test validate lint clean world figures fuzz
.PHONY: serve test validate lint clean world figures system-deps

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The world data: the bundled pair lists imported into graph/data/world/ (generated, not
# committed), again whenever a list or the importer changes.
WORLD_INPUTS := graph/data/sources/world/sources.yaml $(wildcard graph/data/sources/world/*/*.csv \
	graph/data/sources/world/*/*.tsv) graph/importing/world.py graph/importing/pairs.py graph/importing/reconcile.py \
	graph/importing/countries.py graph/importing/gazetteer.py graph/importing/rdf.py
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
	$(BIN)/ruff check graph server tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache graph/data/world/*.nt graph/data/world/*.json $(WORLD_STAMP)

# The long fuzz run (docs/security.md): CITYDIP_FUZZ_EXAMPLES generated requests per fuzz test
# (default 20000: over 100,000 requests across the routes), counted by route and status into
# var/fuzz-report.json. `make test` runs the same suites with a few examples each.
fuzz: $(STAMP)
	mkdir -p var
	CITYDIP_FUZZ_EXAMPLES=$${CITYDIP_FUZZ_EXAMPLES:-20000} \
	CITYDIP_FUZZ_REPORT=$${CITYDIP_FUZZ_REPORT:-var/fuzz-report.json} \
	$(BIN)/python -m pytest -q tests/http/test_fuzz_sparql.py tests/http/test_fuzz_payloads.py \
		tests/http/test_fuzz_routes.py tests/http/test_fuzz_regressions.py
