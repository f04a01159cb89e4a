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

# The ShellCheck program, which actionlint runs on the workflows' scripts (internal/workflows).
if ! command -v shellcheck >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y shellcheck
fi

# MinIO (the S3 tests) and actionlint, built from the module proxy once, under the names
# internal/testenv gives them (MinIOVersion, ActionlintVersion). Built here rather than by the
# first test that needs one, so that minutes of compiling do not run beside timed tests.
go_install_cached() { # name package@version
  [ -x "$cache/bin/$1" ] && return
  gobin=$(mktemp -d "$cache/bin/.gobin.XXXXXX")
  (cd "$gobin" && GOBIN="$gobin" go install "$2")
  mv "$gobin/$(basename "${2%@*}")" "$cache/bin/$1"
  rm -rf "$gobin"
}
minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
go_install_cached "minio-$minio_version" "github.com/minio/minio@$minio_version"
actionlint_version=v1.7.12
go_install_cached "actionlint-$actionlint_version" "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"

# maildev, the SMTP server the mail tests deliver to, pinned as internal/testenv.MaildevVersion.
maildev_version=2.2.1
if ! grep -q "\"version\": \"$maildev_version\"" "$cache/npm/node_modules/maildev/package.json" 2>/dev/null; then
  npm install --prefix "$cache/npm" --no-audit --no-fund --save-exact "maildev@$maildev_version"
fi
