# Sourced by the editor set-up scripts: installs the Debian packages named in APT_PACKAGES
# that are missing, with apt-get (as root, or through sudo). Expects a `log` function.

install_debian_packages() {
    local missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    log "apt-get install ${missing[*]}"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    local start=$SECONDS
    # Another set-up step may hold the dpkg lock: wait for it rather than fail.
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 \
        install -y -qq --no-install-recommends "${missing[@]}" >&2
    log "installed in $((SECONDS - start)) s"
}
