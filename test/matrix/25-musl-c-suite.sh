#!/usr/bin/env bash
# The C test suite (every backend: epoll, poll, kqueue on the emulation) built statically with Zig
# for musl, the C library of Alpine, and run: x86_64-linux-musl natively, aarch64-linux-musl under
# qemu-user. This is what can be executed of the musl targets here: npm serves no musl Node, so the
# musl addons themselves are checked structurally only (prebuilt.js verify: no GLIBC_ version,
# only musl's libc.so NEEDED, the Node-API entry points exported).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root/packages/native"
zig="$(node -p "require('./scripts/prebuilt/zig-addon').zigPath()")"
export ZIG_GLOBAL_CACHE_DIR="$PWD/build/zig/global-cache" ZIG_LOCAL_CACHE_DIR="$PWD/build/zig/local-cache"

run_suite() { # <zig target> <cmake processor> [emulator]
  local target="$1" processor="$2" emulator="${3:-}"
  if [ -n "$emulator" ] && ! command -v "$emulator" >/dev/null 2>&1; then
    echo "skipped $target: $emulator missing (apt-get install qemu-user-static; .ci/run does)"
    return 0
  fi
  local dir="build/musl/$target" cc="$PWD/build/musl/zig-cc-$target"
  mkdir -p "$dir"
  printf '#!/bin/sh\nexec %s cc -target %s "$@"\n' "$zig" "$target" > "$cc"
  chmod +x "$cc"
  local cross=()
  [ "$processor" = "$(uname -m)" ] || cross=(-DCMAKE_SYSTEM_NAME=Linux "-DCMAKE_SYSTEM_PROCESSOR=$processor")
  [ -n "$emulator" ] && cross+=("-DCMAKE_CROSSCOMPILING_EMULATOR=$(command -v "$emulator")")
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_COMPILER=$cc" -DCMAKE_EXE_LINKER_FLAGS=-static "${cross[@]}" >/dev/null
  cmake --build "$dir" -j 2 >/dev/null
  local first
  first="$(ls "$dir"/test_* | head -1)"
  local machine interp
  machine="$(readelf -h "$first" | sed -n 's/^ *Machine: *//p')"
  interp="$(readelf -l "$first" | grep -c 'program interpreter' || true)"
  [ "$interp" = 0 ] || { echo "$first is not statically linked"; return 1; }
  echo "== C suite for $target (static, $machine)${emulator:+ under $emulator}"
  ctest --test-dir "$dir" --output-on-failure
}

run_suite x86_64-linux-musl x86_64
run_suite aarch64-linux-musl aarch64 qemu-aarch64-static
