# mipc: the two set-up commands are `make demo` and `make test`; both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-out

.PHONY: venv system-deps lint test fuzz demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q mipc  # as pip does for a package it installs (not editable)
	touch $(STAMP)

venv: $(STAMP)

# nginx, ISC dhcpd, Kea, dnsmasq and BIND's checkers for the end-to-end tests (Debian, as root).
system-deps:
	bash scripts/install-system-deps.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Outside CI, as a non-root user, system-deps installs nothing and the end-to-end tests whose
# tools are missing skip; -rs lists each skipped test and why.
test: venv system-deps
	$(BIN)/python -m pytest -q -n auto -rs

# SIGKILL at 200 random points of cold, full and incremental builds (tests/fuzz/test_kills.py),
# and 5000 hypothesis inputs per reader harness, 1000 for validate => build and import-csv
# (tests/fuzz/test_fuzz_*.py); make test runs a few of each.
fuzz: venv
	MIPC_FUZZ_KILLS=$${MIPC_FUZZ_KILLS:-200} MIPC_FUZZ_EXAMPLES=$${MIPC_FUZZ_EXAMPLES:-5000} \
		$(BIN)/python -m pytest -q -s tests/fuzz --hypothesis-show-statistics

demo: venv
	$(BIN)/mipc validate examples/lab
	$(BIN)/mipc build examples/lab -o $(DEMO) --server-root $(CURDIR)/$(DEMO)
	@echo
	@echo "Files phones fetch (web root $(DEMO)/current/www):"
	@cd $(DEMO)/current/www && find . -type f -o -type l | sed 's|^\./|  |' | sort
	@echo
	@echo "DHCP, DNS and nginx snippets: $(DEMO)/current/network/"
	@echo "Serve it with nginx (uploads go to $(DEMO)/uploads):"
	@echo "  cp $(DEMO)/current/network/nginx-site.conf /etc/nginx/conf.d/mipc.conf && nginx -s reload"
	@echo "  (the lab answers only its phones' network, 10.250.0.0/16: serving.access networks;"
	@echo "   to try it from this machine, see docs/serving.md for the access modes)"
	@echo "or, read-only, with any static server:  python3 -m http.server -d $(DEMO)/current/www 8088"
	@echo "Inspect a phone:  $(BIN)/mipc explain PolycomAgent examples/lab"

# 10k and 100k phones, 3 interleaved rounds; writes bench/RESULTS.md (see bench/METHOD.md).
# BENCH_ARGS="--sizes 1000 --rounds 3 --steps cold,floor" picks sizes, rounds and steps.
bench: venv
	$(BIN)/python bench/run.py --out bench/RESULTS.md $(BENCH_ARGS)

clean:
	rm -rf $(DEMO) build dist .pytest_cache .mypy_cache .ruff_cache
