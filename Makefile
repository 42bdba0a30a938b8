# The Makefile is the interface: CI calls `make test` and nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# System packages the tests use: a real SecretService keyring (gnome-keyring under dbus-run-session),
# Node.js for the JavaScript unit tests, Debian's Chromium for the browser tests (never a downloaded one),
# and msmtp as a real local sendmail for the mail tests.
APT_PACKAGES := gnome-keyring dbus dbus-bin libsecret-tools nodejs chromium msmtp msmtp-mta
# Only the benchmarks need wrk.
BENCH_APT_PACKAGES := wrk

.DEFAULT_GOAL := help
.PHONY: help deps bench-deps venv run test test-fast lint format bench bench-dashboard clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "system packages present:$(foreach p,$(1), $(p))"; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing system packages:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	else echo "Please install the system packages the tests need:"; \
		echo "  sudo apt-get install -y$$missing"; exit 1; fi
endef
define apt_install_line
	{ if [ "$$(id -u)" = "0" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(1) >/dev/null; \
	else echo "Please install: sudo apt-get install -y $(1)"; exit 1; fi; }
endef

deps: ## install the system packages the tests need (apt as root, else print the apt line), and axe-core
	$(call apt_install,$(APT_PACKAGES))
	@command -v npm >/dev/null 2>&1 || $(call apt_install_line,npm)
	@test -f tests/e2e/node_modules/axe-core/axe.min.js || npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error

bench-deps: deps
	$(call apt_install,$(BENCH_APT_PACKAGES))

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/.installed ## build the virtual environment

run: venv ## run the appliance on its embedded SQLite default, bound to 127.0.0.1
	OFFEN_SERVER_HOST=$${OFFEN_SERVER_HOST:-127.0.0.1} $(BIN)/offen serve

test: deps venv ## run every test (the real keyring, real servers on loopback)
	DBUS_SESSION_BUS_ADDRESS=disabled: $(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: venv ## skip the slow tiers (real servers, real keyring)
	DBUS_SESSION_BUS_ADDRESS=disabled: $(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not keyring"

lint: venv ## ruff check and format check
	$(BIN)/ruff check appliance tests bench
	$(BIN)/ruff format --check appliance tests bench

format: venv ## reformat the code
	$(BIN)/ruff format appliance tests bench
	$(BIN)/ruff check --fix appliance tests bench

bench: bench-deps venv ## measure the server, the browser side and the operator dashboard at scale (figures printed)
	DBUS_SESSION_BUS_ADDRESS=disabled: $(BIN)/python -m bench.run
	DBUS_SESSION_BUS_ADDRESS=disabled: $(BIN)/python -m bench.browser
	node bench/table_bench.mjs
	DBUS_SESSION_BUS_ADDRESS=disabled: $(BIN)/python -m bench.dashboard

bench-dashboard: bench-deps venv ## only the operator dashboard at 100k and 1M events (about 40 minutes)
	DBUS_SESSION_BUS_ADDRESS=disabled: $(BIN)/python -m bench.dashboard

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache build/work dist
