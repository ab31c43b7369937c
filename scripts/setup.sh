#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for Huginn: the TorchSharp native library (libLibTorchSharp.so)
# needs GLIBCXX_3.4.32 (GCC 13), newer than Debian 12's libstdc++. We take libstdc++6 alone from
# trixie, with trixie pinned low (priority 100) so that nothing else is upgraded from it.
set -euo pipefail

need_glibcxx="GLIBCXX_3.4.32"

have_glibcxx() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6; do
    if [ -e "$lib" ] && grep -qa "$need_glibcxx" "$lib"; then return 0; fi
  done
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: '$*' needs root; run this script as root" >&2; return 1; fi
}

if have_glibcxx; then
  echo "setup: libstdc++ provides $need_glibcxx"
else
  echo "setup: libstdc++ lacks $need_glibcxx (needed by TorchSharp); installing libstdc++6 from trixie, pinned low"
  as_root tee /etc/apt/sources.list.d/trixie.sources >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  as_root tee /etc/apt/preferences.d/trixie-low >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 </dev/null
  have_glibcxx || { echo "setup: $need_glibcxx still missing after the install" >&2; exit 1; }
fi
