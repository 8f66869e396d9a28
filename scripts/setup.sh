#!/usr/bin/env bash
# Install ecr-emulator for development. Safe to run again: it installs only what is missing.
#
#   scripts/setup.sh          pip install -e .
#   scripts/setup.sh --test   also the `test` extra and the Debian packages that the
#                             end-to-end tests drive: docker.io, skopeo, podman,
#                             docker-registry, umoci
#
# PYTHON selects the interpreter whose pip is used (default: python, the one that
# `python -m pytest` runs). The Debian packages need root or sudo.

set -euo pipefail

TEST_PACKAGES=(docker.io skopeo podman docker-registry umoci)
PYTHON="${PYTHON:-python}"

log() {
    echo "setup.sh: $*" >&2
}

usage() {
    echo "usage: scripts/setup.sh [--test]" >&2
    echo "  --test  also install the test extra and the Debian packages ${TEST_PACKAGES[*]}" >&2
}

# Succeed when the Debian package NAME is installed, not merely known to dpkg.
is_installed() {
    [[ "$(dpkg-query --show --showformat='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

install_debian_packages() {
    local missing=() package
    for package in "${TEST_PACKAGES[@]}"; do
        if ! is_installed "$package"; then
            missing+=("$package")
        fi
    done
    if ((${#missing[@]} == 0)); then
        log "Debian packages already installed: ${TEST_PACKAGES[*]}"
        return 0
    fi

    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        if ! command -v sudo >/dev/null; then
            log "missing Debian packages ${missing[*]}; run this script as root or install sudo"
            exit 1
        fi
        sudo=(sudo)
    fi

    # Wait up to 5 minutes for another apt or dpkg process to release its lock.
    local apt_options=(-o DPkg::Lock::Timeout=300)
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${apt_options[@]}" install --yes "${missing[@]}"
}

with_test=0
for argument in "$@"; do
    case "$argument" in
        --test) with_test=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            log "unknown argument: $argument"
            usage
            exit 2
            ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ((with_test)); then
    install_debian_packages
    log "installing ecr-emulator with the test extra"
    "$PYTHON" -m pip install --editable '.[test]'
else
    log "installing ecr-emulator"
    "$PYTHON" -m pip install --editable .
fi
