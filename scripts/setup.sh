#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for Huginn. The TorchSharp native library (libLibTorchSharp.so)
# needs GLIBCXX_3.4.32 (GCC 13), newer than Debian 12's libstdc++. We take libstdc++6 alone from
# trixie, with trixie pinned low (priority 100) so that nothing else is upgraded from it. It also installs
# kustomize (from trixie where the release has none), which the Kubernetes manifest tests run.
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

# Debian trixie as a source, pinned low (priority 100) so that nothing is upgraded from it unless asked for by name.
add_trixie_pinned_low() {
  [ -e /etc/apt/sources.list.d/trixie.sources ] && [ -e /etc/apt/preferences.d/trixie-low ] && return 0
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
}

if have_glibcxx; then
  echo "setup: libstdc++ provides $need_glibcxx"
else
  echo "setup: libstdc++ lacks $need_glibcxx (needed by TorchSharp); installing libstdc++6 from trixie, pinned low"
  add_trixie_pinned_low
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 </dev/null
  have_glibcxx || { echo "setup: $need_glibcxx still missing after the install" >&2; exit 1; }
fi

# The Kubernetes manifest tests (Tests/Deploy) render deploy/k8s with kustomize; kubectl's built-in one does too.
# Debian 12 has no kustomize package: it comes from trixie (a static Go binary, no libraries pulled in).
if command -v kustomize >/dev/null || command -v kubectl >/dev/null; then
  echo "setup: kustomize available"
else
  echo "setup: installing kustomize (for the manifest tests)"
  if ! apt-cache show kustomize >/dev/null 2>&1; then add_trixie_pinned_low; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kustomize </dev/null \
    || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie kustomize </dev/null
  command -v kustomize >/dev/null || { echo "setup: kustomize still missing after the install" >&2; exit 1; }
fi

# The browser end-to-end test (Tests/Web, Category=Browser) drives Debian's chromium headless over the DevTools
# protocol: from apt, never a browser download.
if command -v chromium >/dev/null; then
  echo "setup: chromium available"
else
  echo "setup: installing chromium (for the browser end-to-end test)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium </dev/null
  command -v chromium >/dev/null || { echo "setup: chromium still missing after the install" >&2; exit 1; }
fi
