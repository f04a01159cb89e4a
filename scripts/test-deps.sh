#!/usr/bin/env bash
# Installs what the tests need on a fresh machine, once; later runs find it in the cache.
# Debian packages come from apt (CI runs as root, with no terminal); everything built or
# downloaded goes under $PARVIS_TEST_CACHE (default ~/.cache/parvis-test).
set -euo pipefail
cache="${PARVIS_TEST_CACHE:-$HOME/.cache/parvis-test}"
mkdir -p "$cache/bin"

apt_packages=()
command -v git >/dev/null || apt_packages+=(git)
# Browser tests (internal/e2e): Debian's Chromium, and npm for axe-core below.
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
command -v npm >/dev/null || apt_packages+=(npm)
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y "${apt_packages[@]}"
fi

go mod download

# axe-core for the accessibility checks, pinned as internal/testenv.AxeVersion.
axe_version=4.14.1
if ! head -c 64 "$cache/npm/node_modules/axe-core/axe.min.js" 2>/dev/null | grep -q "axe v$axe_version\$"; then
  npm install --prefix "$cache/npm" --no-audit --no-fund --save-exact "axe-core@$axe_version"
fi
