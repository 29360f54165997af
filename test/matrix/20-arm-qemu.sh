#!/usr/bin/env bash
# The ARM subset of the jest suite on the arm64 and armv7 prebuilts, executed: the official
# Node binaries for those CPUs (from npm) run under qemu-user with Debian's ARM C libraries, load
# @socketpoll/epoll-linux-arm64 / -arm-gnueabihf from the workspace exactly as an install would
# (by process.arch), and run readiness, the three modes, data round-trip, wakeup from a worker,
# start()/stop()/waitAsync, typed errors and the worker-only load. The test-only fd helper is
# cross-built for the same target. No binfmt handler is registered here, so tests that start Node
# take the qemu command from SOCKETPOLL_TEST_NODE.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
SUITES=(readiness modes batches wakeup-and-timeouts event-loop errors workers worker-only-load)
cache="$root/.cache/qemu"
mkdir -p "$cache"

run_target() { # <package> <runtime> <qemu> <sysroot>
  local pkg="$1" runtime="$2" qemu="$3" sysroot="$4"
  if ! command -v "$qemu" >/dev/null 2>&1 || [ ! -d "$sysroot" ]; then
    echo "skipped $pkg: $qemu or $sysroot missing (apt-get install qemu-user-static and the ARM cross C libraries; .ci/run does)"
    return 0
  fi
  local node_bin
  if ! node_bin="$(bash test/runtime.sh "$runtime")"; then echo "skipped $pkg: no $runtime binary (see above)"; return 0; fi
  if [ ! -f "packages/$pkg/socketpoll.node" ]; then echo "packages/$pkg/socketpoll.node is missing: run pnpm build"; return 1; fi
  local wrapper="$cache/$runtime"
  printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$qemu" "$sysroot" "$node_bin" > "$wrapper"
  chmod +x "$wrapper"
  local helper="$cache/fd_helper-$pkg.node"
  node packages/native/scripts/prebuilt.js test-helper "$pkg" "$helper" >/dev/null
  echo "== $pkg on $("$wrapper" -p 'process.version + " " + process.arch') under $qemu"
  (cd packages/core && SOCKETPOLL_TEST_NODE="$wrapper" SOCKETPOLL_TEST_FD_HELPER="$helper" SOCKETPOLL_TEST_BACKENDS=epoll \
    timeout 1200 "$wrapper" node_modules/jest/bin/jest.js --runInBand --silent "${SUITES[@]/#/test/}")
}

run_target epoll-linux-arm64 node-arm64 qemu-aarch64-static /usr/aarch64-linux-gnu
run_target epoll-linux-arm-gnueabihf node-armv7 qemu-arm-static /usr/arm-linux-gnueabihf
