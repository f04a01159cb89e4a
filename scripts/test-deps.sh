#!/usr/bin/env bash
# Installs what the tests need on a fresh machine, once; later runs find it in the cache.
# Debian packages come from apt (CI runs as root, with no terminal); everything built or
# downloaded goes under $PARVIS_TEST_CACHE (default ~/.cache/parvis-test).
set -euo pipefail
cache="${PARVIS_TEST_CACHE:-$HOME/.cache/parvis-test}"
mkdir -p "$cache/bin"

apt_packages=()
command -v git >/dev/null || apt_packages+=(git)
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y "${apt_packages[@]}"
fi

go mod download
