#!/usr/bin/env bash
# In the device lab's VM: uart.cjs on the lab's Node, then on Node 22 and 24, Bun and Deno where the
# lab has them ($LAB_NODE22, $LAB_NODE24, $LAB_BUN, $LAB_DENO: test/runtime.sh fetched them into
# .cache/runtimes), in one boot.
set -u
cd "$(dirname "$0")"
node uart.cjs || exit 1
for name in LAB_NODE22 LAB_NODE24 LAB_BUN; do
  if [ -n "${!name:-}" ]; then "${!name}" uart.cjs || exit 1; else echo "uart: skipped on \$$name: not in the lab (test/runtime.sh did not fetch it)"; fi
done
if [ -n "${LAB_DENO:-}" ]; then "$LAB_DENO" run -A uart.cjs || exit 1; else echo "uart: skipped on \$LAB_DENO: not in the lab (test/runtime.sh did not fetch it)"; fi
