#!/usr/bin/env bash
# Installs what the Emacs editor tests need: Debian's Emacs without X (emacs-nox) and its
# Eglot package (elpa-eglot), then byte-compiles editors/emacs/gemini-lsp.el with them as a
# check that the package loads. A no-op apart from that check when both are installed.
# Usage: scripts/install-emacs.sh [--check-only]
set -euo pipefail

APT_PACKAGES=(emacs-nox elpa-eglot)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGE_DIR="$HERE/editors/emacs"
# `emacs -Q` skips Debian's start-up files, which is where elpa-* packages are activated.
ACTIVATE='(progn (require (quote package))
  (add-to-list (quote package-directory-list) "/usr/share/emacs/site-lisp/elpa")
  (package-activate-all))'

log() { echo "install-emacs: $*" >&2; }

source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

# Byte-compiles into a temporary folder (the repo stays free of .elc files) with warnings
# as errors, then loads the result: a package that does not load fails `make editors`.
check_package() {
    local out
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' RETURN
    cp "$PACKAGE_DIR/gemini-lsp.el" "$out/"
    HOME="$out" emacs --batch -Q \
        --eval '(setq byte-compile-error-on-warn t)' \
        --eval "$ACTIVATE" \
        -f batch-byte-compile "$out/gemini-lsp.el" >&2
    HOME="$out" emacs --batch -Q --eval "$ACTIVATE" \
        -l "$out/gemini-lsp.elc" \
        --eval '(unless (eq (nth 2 (eglot--lookup-mode (quote python-mode)))
                            (quote gemini-lsp--contact))
                  (error "gemini-lsp did not register with Eglot"))' >&2
}

if [[ "${1:-}" != "--check-only" ]]; then
    install_debian_packages
fi
check_package
