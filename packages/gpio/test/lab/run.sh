#!/usr/bin/env bash
# Inside the device lab: the GPIO suite on Node (main thread and a worker), then Node 22 and 24, Bun
# and Deno when the lab has them (LAB_NODE22 / LAB_NODE24 / LAB_BUN / LAB_DENO). Prints each run's time; fails if any run fails.
#   test/lab/lab.sh run -- bash packages/gpio/test/lab/run.sh
set -uo pipefail
cd "$(dirname "$0")"
failed=()
go() { # go <label> <command...>
  local label="$1" start=$SECONDS; shift
  if "$@"; then echo "# $label: passed in $((SECONDS - start))s"; else echo "# $label: FAILED"; failed+=("$label"); fi
}
go node node --expose-gc gpio.test.cjs
GPIO_TEST_IN_WORKER=1 go node-worker node --expose-gc gpio.test.cjs
for v in 22 24; do
  bin_var="LAB_NODE$v"
  if [ -n "${!bin_var:-}" ]; then go "node$v" "${!bin_var}" --expose-gc gpio.test.cjs; else echo "# node$v: skipped (not fetched: test/runtime.sh node$v)"; fi
done
if [ -n "${LAB_BUN:-}" ]; then go bun "$LAB_BUN" gpio.test.cjs; else echo "# bun: skipped (not fetched: test/runtime.sh bun)"; fi
if [ -n "${LAB_DENO:-}" ]; then go deno "$LAB_DENO" run -A --v8-flags=--expose-gc gpio.test.cjs; else echo "# deno: skipped (not fetched: test/runtime.sh deno)"; fi
if [ "${#failed[@]}" -gt 0 ]; then echo "# failed: ${failed[*]}"; exit 1; fi
