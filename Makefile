# One entry point per job, for people and CI alike. Every target sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo install test lint bench editors clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

venv: $(STAMP)

# Gemini when a key or Vertex AI is configured, the built-in emulator otherwise (it says so).
DEMO_SOURCE := $(if $(or $(GEMINI_API_KEY),$(GOOGLE_API_KEY),$(filter true TRUE True 1,$(GOOGLE_GENAI_USE_VERTEXAI))),,--emulator)

demo: venv
	mkdir -p .demo && cp examples/fibonacci.py .demo/fibonacci.py
	$(BIN)/gemini-lsp generate .demo/fibonacci.py --line 3 --character 0 $(DEMO_SOURCE) \
		--prompt "Write a function that returns the n-th Fibonacci number iteratively, with a docstring"

# The server for daily use: with pipx when present, else a venv under ~/.local/share.
install:
	$(PYTHON) scripts/install_server.py

test: venv editors
	$(BIN)/python -m pytest

lint: venv vscode-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The package is installed editable, so its bytecode is compiled here as pip compiles an
# installed package's (and pygls', the start-up floor): otherwise, with
# PYTHONDONTWRITEBYTECODE set, every server start would compile it again.
bench: venv
	$(BIN)/python -m compileall -q gemini_lsp
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache .hypothesis bench-results test-artifacts

include editors/editors.mk
