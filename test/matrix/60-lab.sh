#!/usr/bin/env bash
# The device lab (test/lab): boots a real Linux kernel under QEMU and runs the device tests inside
# it. Skips with the lab's printed reason where it cannot run (see test/lab/README.md).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lab="$root/test/lab/lab.sh"
export LAB_SKIP_EXIT=77
step() { printf '60-lab: %s\n' "$*"; }
timed() { # timed <label> <command...>
  local label="$1" start=$SECONDS status=0; shift
  "$@" || status=$?
  step "$label: $([ "$status" = 0 ] && echo ok || echo "exit $status") in $((SECONDS - start))s"
  return "$status"
}

status=0
timed "prepare (tools, kernel, initramfs)" bash "$lab" prepare || status=$?
if [ "$status" = 77 ]; then step "skipped (the reason is above)"; exit 0; fi
[ "$status" = 0 ] || exit 1

failed=()
# Node 22 and 24, Bun and Deno run in the guest from the repository's cache when they can be fetched here.
for r in node22 node24 bun deno; do bash "$root/test/runtime.sh" "$r" >/dev/null 2>&1 || step "$r not available: the guest runs without it"; done
timed "self-test (gpio-sim, vcan, null modem)" bash "$lab" run --serial null-modem -- bash test/lab/selftest.sh || failed+=(selftest)

if [ -f "$root/packages/gpio/dist/index.js" ]; then
  timed "@socketpoll/gpio on gpio-sim (Node 20, a worker, Node 22, 24, Bun, Deno)" bash "$lab" run -- bash packages/gpio/test/lab/run.sh || failed+=(gpio)
else
  step "@socketpoll/gpio is not built (pnpm build)"; failed+=(gpio)
fi

if [ "${#failed[@]}" -gt 0 ]; then
  step "failed: ${failed[*]}"
  exit 1
fi
step "all passed"
