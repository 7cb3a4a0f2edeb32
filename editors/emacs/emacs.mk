# Emacs package (editors/emacs). Debian's emacs-nox and elpa-eglot are installed by
# scripts/install-emacs.sh when missing (a quick no-op otherwise), which then byte-compiles
# and loads gemini-lsp.el as a check. `make emacs-test` runs the real-Emacs tests alone.

.PHONY: emacs-check emacs-test

editors: emacs-check

emacs-check:
	bash scripts/install-emacs.sh

emacs-test: venv emacs-check
	$(BIN)/python -m pytest -m editor tests/editors/emacs
