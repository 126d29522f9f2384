#!/usr/bin/env bash
# Installs the Debian 12 packages Quire needs to build, test and package.
# Quick when everything is already there: apt is only called for what is missing.
set -euo pipefail

packages=(
  # core list from shared/toolchain.md
  g++ make cmake pkg-config qt6-base-dev qt6-websockets-dev libsodium-dev
  libsqlite3-dev catch2 xvfb xauth file dpkg-dev
  # used by the build, the scripts and the sanitizer/fuzz builds
  libzstd-dev libexpected-dev ninja-build clang libclang-rt-14-dev
  libxkbcommon-dev zlib1g-dev openssl
  # scripts/check-packages.sh: desktop entry, metainfo and unit checks, the quire:// handler
  # through xdg-open, pgrep; adduser is a Depends of the quire-relay package it installs
  desktop-file-utils appstream xdg-utils systemd procps adduser
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  if [[ $status != ii* ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if ((EUID == 0)); then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
