# Two promises: `make demo` and `make test` work on a fresh machine with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt bench clean browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/omni demo

# Debian's Chromium drives the browser tests; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || scripts/install-chromium

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	OMNI_DATA_DIR=$$(mktemp -d) $(BIN)/omni db check

test: lint browser
	$(BIN)/pytest -n auto

fmt: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# Each benchmark prints its figures next to a baseline measured in the same run.
BENCHES := event_log http_ingest import_orders identity_stitching matching profile_lookup segments segments_incremental \
	inventory_reservations channels_email journeys_runtime funnels
bench: $(STAMP)
	for b in $(BENCHES); do echo "== $$b"; $(BIN)/python -m bench.$$b || exit 1; done

clean:
	rm -rf $(VENV) .omni .pytest_cache .mypy_cache .ruff_cache
