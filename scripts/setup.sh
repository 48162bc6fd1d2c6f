#!/usr/bin/env bash
# Installs everything tunstack needs on a fresh Debian machine, then builds
# the addon (release) and the TypeScript layer. Idempotent: a second run only
# rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v python3 >/dev/null || need_apt+=(python3)
command -v socat >/dev/null || need_apt+=(socat)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v ping >/dev/null || need_apt+=(iputils-ping)
command -v cc >/dev/null || need_apt+=(build-essential)
# The SYN-flood TUN test crafts spoofed SYNs with scapy (the distribution's python3).
/usr/bin/python3 -c 'import scapy.all' >/dev/null 2>&1 || need_apt+=(python3-scapy)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing ${need_apt[*]} (not root: TUN tests that need them will be skipped)" >&2
  fi
fi

if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: install it with rustup" >&2; exit 1; }
command -v node >/dev/null || { echo "setup: Node.js >= 20.17 is required" >&2; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
