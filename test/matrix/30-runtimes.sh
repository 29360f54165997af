#!/usr/bin/env bash
# The runtime-neutral conformance suite (packages/core/test/conformance) on Node 20, 22 and 24,
# Bun and Deno (binaries from npm, see test/runtime.sh), on every backend this machine has: epoll
# (the shipped prebuilt, loaded by the loader, and on Node 20 also the node-gyp build), poll, and
# kqueue on the test-only emulation; on Node on both delivery paths (uv_poll and the helper thread).
# A runtime that cannot be fetched or run here is reported and skipped.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh" 30-runtimes
suite="$root/packages/core/test/conformance/run.cjs"
release="$root/packages/native/gyp/build/Release"
linux_only "the conformance matrix is set up for Linux (epoll, poll, kqueue emulation)"
built "$root/packages/core/dist/index.js" "$release/socketpoll_kqueue_emulated.node"

# No addon may need a libuv symbol to load: the verifier's rule (the prebuilts meet it in
# `prebuilt.js verify`), applied here to what this matrix loads.
node "$root/packages/native/scripts/prebuilt/verify-elf.js" --no-libuv "$root/packages/epoll-linux-x64/socketpoll.node" "$release"/socketpoll_*.node || exit 1

backends=("--backend epoll" "--backend poll" "--addon $release/socketpoll_kqueue_emulated.node")
failed=()
runs=0

# run <label> <delivery or ''> <command words...> -- <suite args...>
run() {
  local label="$1" delivery="$2"; shift 2
  local cmd=()
  while [ "$1" != "--" ]; do cmd+=("$1"); shift; done
  shift
  runs=$((runs + 1))
  local out
  if out=$(SOCKETPOLL_DELIVERY="$delivery" SOCKETPOLL_TEST_NODE="${cmd[*]}" timeout 300 "${cmd[@]}" "$suite" "$@" 2>&1); then
    echo "$out" | head -1
    echo "  $(echo "$out" | tail -1)"
  else
    echo "$out"
    failed+=("$label $* ${delivery:+(SOCKETPOLL_DELIVERY=$delivery)}")
  fi
}

for name in node node22 node24 bun deno; do
  runtime_cmd "$name" || continue
  for b in "${backends[@]}"; do
    # shellcheck disable=SC2086
    run "$name" "" "${cmd[@]}" -- $b
    case "$name" in
      node*) [ "$b" != "--backend poll" ] && run "$name" thread "${cmd[@]}" -- $b ;;
    esac
  done
  [ "$name" = node ] && run "$name" "" "${cmd[@]}" -- --addon "$release/socketpoll_epoll.node"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "30-runtimes: $runs runs, failed:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "30-runtimes: $runs runs passed"
