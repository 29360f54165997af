#!/usr/bin/env bash
# The npm `epoll` package's own test suite, run unchanged against @socketpoll/epoll. epoll@4.0.2 is
# fetched from the registry (npm pack) into .cache/epoll-peer (git-ignored; nothing of it is
# committed), its epoll.js is replaced by a one-line re-export of packages/epoll, and every test
# file its test/run-tests runs is run with a newline piped to stdin (the tests watch fd 0). A run
# passes when it exits 0, prints no `*** Error`, lasts at least as long as its own timers need
# (so a program that exits without ever getting an event fails), and, for performance-check,
# prints its rate. Each file runs on the main thread and inside a worker_threads Worker
# (packages/epoll/test/peer/in-worker.cjs), and all of them at once, each in its own Worker of one
# process; on Node 20 (this machine's), 22 and 24, Bun and Deno (DENO_COMPAT=1), on the kqueue
# backend (the test-only emulation, Node 20), and with the arm64 and armv7 prebuilts under qemu.
# Last, onoff itself, unchanged, gets real GPIO interrupts through the drop-in in the device lab
# (a VM whose kernel has gpio-sim and sysfs GPIO): on Node, in a Worker, on Bun and Deno.
# First, the same harness runs the suite against a stub that never delivers an event, and must
# fail it. EPOLL_PEER_ONLY=node,bun,... narrows the runs (node node22 node24 bun deno kqueue
# arm64 armv7 lab).
set -uo pipefail
. "$(dirname "$0")/lib/common.sh" 33-epoll-peer
dropin="$root/packages/epoll"
peer_dir="$dropin/test/peer"
cache="$root/.cache/epoll-peer"
version=4.0.2
linux_only "the peer suite watches stdin with the runtimes fetched for Linux x64"
built "$dropin/dist/index.js" "$root/packages/core/dist/index.js"
step_start=$(date +%s)
step() { # prints the time the previous step took
  local now; now=$(date +%s)
  printf '33-epoll-peer: %s (%ss)\n' "$1" "$((now - step_start))"
  step_start=$now
}

# 1. The peer package, from the registry.
pkg="$cache/epoll-$version/package"
if [ ! -f "$pkg/test/run-tests" ]; then
  rm -rf "$cache/epoll-$version" && mkdir -p "$cache/epoll-$version"
  if ! tgz=$(cd "$cache" && npm pack --silent "epoll@$version" 2>/dev/null | tail -1) || [ ! -f "$cache/$tgz" ]; then
    echo "33-epoll-peer: skipped: npm pack epoll@$version failed (no registry here?)"
    exit 0
  fi
  tar -xzf "$cache/$tgz" -C "$cache/epoll-$version" && rm -f "$cache/$tgz"
fi
# The files run-tests runs, in its order ("node closed", "echo | node one-shot", ...).
mapfile -t tests < <(sed -nE 's/^(echo \| )?node ([A-Za-z0-9_-]+)$/\2/p' "$pkg/test/run-tests")
if [ "${#tests[@]}" -lt 8 ]; then
  echo "33-epoll-peer: expected the 8 tests of epoll@$version in test/run-tests, found: ${tests[*]}" >&2
  exit 1
fi
for t in "${tests[@]}"; do
  [ -f "$pkg/test/$t.js" ] || { echo "33-epoll-peer: run-tests runs $t, but test/$t.js is missing" >&2; exit 1; }
done

# 2. Two copies: one whose epoll.js re-exports the drop-in, one whose epoll.js is the stub.
make_copy() { # <dir> <module to re-export>
  rm -rf "$1" && cp -r "$pkg" "$1"
  printf "module.exports = require(%s);\n" "'$2'" > "$1/epoll.js"
}
make_copy "$cache/dropin" "$dropin"
make_copy "$cache/stub" "$peer_dir/stub-epoll.cjs"
if ! node -e "if (require(process.argv[1]).Epoll !== require(process.argv[2]).Epoll) process.exit(1)" "$cache/dropin" "$dropin"; then
  echo "33-epoll-peer: $cache/dropin does not load the drop-in" >&2
  exit 1
fi
step "epoll@$version from the registry: ${#tests[@]} tests (${tests[*]})"

# Least wall time of a passing run: its end needs events (a timer started in the callback, or a
# callback call after 5 s); 0: no such bound.
min_ms() {
  case "$1" in
    no-gc-allowed) echo 5000 ;;
    performance-check) echo 1000 ;;
    two-shot) echo 200 ;;
    one-shot) echo 100 ;;
    *) echo 0 ;;
  esac
}

failures=()
# check <label> <test> <rc> <ms> <output>: records a failure; prints the rate line.
check() {
  local label="$1" t="$2" rc="$3" ms="$4" out="$5" why=""
  [ "$rc" = 0 ] || why="exit code $rc"
  grep -q '\*\*\* Error' <<<"$out" && why="${why:+$why, }printed *** Error"
  [ "$ms" -ge "$(min_ms "$t")" ] || why="${why:+$why, }ended after $ms ms (needs at least $(min_ms "$t") ms: no event delivered?)"
  if [ "$t" = performance-check ]; then
    local rate
    rate=$(grep -oE '[0-9]+ events per second' <<<"$out" | head -1)
    if [ -z "$rate" ] || [ "${rate%% *}" = 0 ]; then why="${why:+$why, }no rate printed"; else rates+=("$label: $rate"); fi
  fi
  if [ -n "$why" ]; then
    failures+=("$label $t: $why")
    printf '  FAILED %s %s: %s\n%s\n' "$label" "$t" "$why" "$(sed 's/^/    | /' <<<"$out" | tail -20)"
    return 1
  fi
  return 0
}

# run_one <label> <copy dir> <runtime words...> -- <script args...>
run_one() {
  local label="$1" dir="$2"; shift 2
  local cmd=()
  while [ "$1" != "--" ]; do cmd+=("$1"); shift; done
  shift
  local t="${!#}" start end out rc
  t="$(basename "$t" .js)"
  start=$(date +%s%N)
  out=$(cd "$dir/test" && echo | timeout "${PEER_TIMEOUT:-60}" "${cmd[@]}" "$@" 2>&1)
  rc=$?
  end=$(date +%s%N)
  check "$label" "$t" "$rc" "$(((end - start) / 1000000))" "$out"
}

# suite <label> <copy dir> <runtime words...>: every test on the main thread, then in a Worker,
# then all at once in Workers of one process.
suite() {
  local label="$1" dir="$2"; shift 2
  local before=${#failures[@]} t
  for t in "${tests[@]}"; do run_one "$label" "$dir" "$@" -- "$t.js"; done
  for t in "${tests[@]}"; do run_one "$label worker" "$dir" "$@" -- "$peer_dir/in-worker.cjs" "$t.js"; done
  local files=("${tests[@]/%/.js}") start end out rc
  start=$(date +%s%N)
  out=$(cd "$dir/test" && echo | timeout "${PEER_TIMEOUT:-60}" "$@" "$peer_dir/in-worker.cjs" "${files[@]}" 2>&1)
  rc=$?
  end=$(date +%s%N)
  check "$label ${#tests[@]} workers at once" all "$rc" "$(((end - start) / 1000000))" "$out"
  local failed=$((${#failures[@]} - before))
  runs=$((runs + 2 * ${#tests[@]} + 1))
  step "$label: $((2 * ${#tests[@]} + 1 - failed)) of $((2 * ${#tests[@]} + 1)) runs passed (each test on the main thread, in a Worker, all in Workers at once)"
}

wanted() { [ -z "${EPOLL_PEER_ONLY:-}" ] || [[ ",$EPOLL_PEER_ONLY," == *",$1,"* ]]; }
runs=0
rates=()

# 3. The harness must fail a stub that never delivers an event.
saved=("${failures[@]}")
for t in "${tests[@]}"; do PEER_TIMEOUT=4 run_one stub "$cache/stub" node -- "$t.js" >/dev/null; done
caught=$((${#failures[@]} - ${#saved[@]}))
failures=("${saved[@]}")
rates=()
if [ "$caught" -lt 4 ]; then
  echo "33-epoll-peer: the harness passed a stub that never delivers an event (only $caught of ${#tests[@]} runs failed)" >&2
  exit 1
fi
step "the harness fails $caught of ${#tests[@]} runs against a stub that never delivers an event"

# 4. The runtimes.
for name in node node22 node24 bun deno; do
  wanted "$name" || continue
  runtime_cmd "$name" || continue
  [ "$name" = deno ] && cmd=(env DENO_COMPAT=1 "${cmd[@]}") # the peer's tests are CommonJS .js files
  suite "$name $("${cmd[@]}" "$peer_dir/version.cjs" 2>/dev/null)" "$cache/dropin" "${cmd[@]}"
done

# 5. The kqueue backend (emulated over epoll; test-only build).
if wanted kqueue; then
  if [ -f "$root/packages/native/gyp/build/Release/socketpoll_kqueue_emulated.node" ]; then
    suite "node kqueue (emulated)" "$cache/dropin" node -r "$peer_dir/kqueue-emulation.cjs"
  else
    echo "33-epoll-peer: kqueue skipped: packages/native/gyp/build/Release/socketpoll_kqueue_emulated.node is missing (pnpm build)"
  fi
fi

# 6. The ARM prebuilts under qemu-user (as test/matrix/20-arm-qemu.sh runs them).
arm() { # <word> <package> <runtime> <qemu> <sysroot>
  local word="$1" prebuilt="$2" runtime="$3" qemu="$4" sysroot="$5" node_bin
  wanted "$word" || return 0
  if ! command -v "$qemu" >/dev/null 2>&1 || [ ! -d "$sysroot" ]; then
    echo "33-epoll-peer: $word skipped: $qemu or $sysroot missing (apt-get install qemu-user-static and the ARM cross C libraries; .ci/run does)"
    return 0
  fi
  if ! node_bin="$(bash "$root/test/runtime.sh" "$runtime")"; then echo "33-epoll-peer: $word skipped: no $runtime binary"; return 0; fi
  if [ ! -f "$root/packages/$prebuilt/socketpoll.node" ]; then
    failures+=("$word: packages/$prebuilt/socketpoll.node is missing: run pnpm build")
    return 0
  fi
  local wrapper="$cache/$runtime"
  printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$qemu" "$sysroot" "$node_bin" > "$wrapper"
  chmod +x "$wrapper"
  local loaded
  loaded=$("$wrapper" -e "const c = require(process.argv[1]); const b = c.loadBackend(); console.log(b.packageName)" "$root/packages/core" 2>&1)
  if [ "$loaded" != "@socketpoll/$prebuilt" ]; then
    failures+=("$word: the loader gave '$loaded', not @socketpoll/$prebuilt")
    return 0
  fi
  PEER_TIMEOUT=180 suite "$word $("$wrapper" "$peer_dir/version.cjs") ($prebuilt under $qemu)" "$cache/dropin" "$wrapper"
}
arm arm64 epoll-linux-arm64 node-arm64 qemu-aarch64-static /usr/aarch64-linux-gnu
arm armv7 epoll-linux-arm-gnueabihf node-armv7 qemu-arm-static /usr/arm-linux-gnueabihf

# 7. onoff, unchanged, on a real kernel's sysfs GPIO interrupts (the device lab: a VM with gpio-sim,
# test/lab/README.md), with an `epoll` whose epoll.js re-exports the drop-in: on Node, in a Worker,
# on Node 22 and 24, Bun and Deno (when test/runtime.sh has fetched them).
if wanted lab; then
  app="$cache/onoff-app"
  if [ ! -f "$app/node_modules/onoff/onoff.js" ] || [ ! -f "$app/node_modules/lodash.debounce/index.js" ]; then
    rm -rf "$app" && mkdir -p "$app/node_modules"
    for spec in onoff@6.0.3 lodash.debounce@4.0.8; do
      dir="$app/node_modules/${spec%@*}"
      mkdir -p "$dir"
      tgz=$(cd "$cache" && npm pack --silent "$spec" 2>/dev/null | tail -1) && tar -xzf "$cache/$tgz" -C "$dir" --strip-components=1 && rm -f "$cache/$tgz"
    done
  fi
  mkdir -p "$app/node_modules/epoll"
  printf '{ "name": "epoll", "version": "%s", "main": "epoll.js" }\n' "$version" > "$app/node_modules/epoll/package.json"
  printf "module.exports = require(%s);\n" "'$dropin'" > "$app/node_modules/epoll/epoll.js"
  if [ ! -f "$app/node_modules/onoff/onoff.js" ]; then
    echo "33-epoll-peer: lab skipped: npm pack onoff failed (no registry here?)"
  else
    guest="packages/epoll/test/lab/onoff-gpio.cjs"
    script='node "$0" "$1"; a=$?; LAB_WORKER=1 node "$0" "$1"; b=$?; c=0; d=0; e=0; f=0
      if [ -n "${LAB_NODE22:-}" ]; then "$LAB_NODE22" "$0" "$1"; e=$?; fi
      if [ -n "${LAB_NODE24:-}" ]; then "$LAB_NODE24" "$0" "$1"; f=$?; fi
      if [ -n "${LAB_BUN:-}" ]; then "$LAB_BUN" "$0" "$1"; c=$?; fi
      if [ -n "${LAB_DENO:-}" ]; then DENO_COMPAT=1 "$LAB_DENO" run -A "$0" "$1"; d=$?; fi
      exit $((a | b | c | d | e | f))'
    out=$(cd "$root" && LAB_SKIP_EXIT=77 timeout 900 bash test/lab/lab.sh run -- bash -c "$script" "$guest" "$app" 2>&1)
    rc=$?
    grep -E '^(ok|not ok) - |^lab: ' <<<"$out" | sed 's/^/  /'
    if [ "$rc" = 77 ]; then
      echo "33-epoll-peer: lab skipped (see above)"
    elif [ "$rc" != 0 ] || grep -q '^not ok' <<<"$out" || ! grep -q '^ok - onoff' <<<"$out"; then
      failures+=("onoff on gpio-sim in the device lab: exit $rc")
      tail -30 <<<"$out" | sed 's/^/    | /'
    fi
    runs=$((runs + $(grep -c '^ok - onoff\|^not ok' <<<"$out")))
    step "onoff on a real kernel's GPIO interrupts (device lab)"
  fi
fi

for r in "${rates[@]}"; do echo "  performance-check, $r"; done
if [ "${#failures[@]}" -gt 0 ]; then
  echo "33-epoll-peer: ${#failures[@]} of $runs runs failed:"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "33-epoll-peer: all $runs runs passed"
