#!/usr/bin/env bash
# The part of `pnpm test` that runs the built packages on other runtimes and targets: each
# test/matrix/*.sh in name order (other Node lines, ARM under qemu, musl, Bun, Deno, packaging,
# docs). A script that cannot run here prints why and exits 0; one that fails fails the run.
# MATRIX=name1,name2 runs only the scripts whose names contain one of those words.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
for script in test/matrix/*.sh; do
  [ -e "$script" ] || continue
  base="$(basename "$script" .sh)"
  if [ -n "${MATRIX:-}" ]; then
    keep=0
    IFS=',' read -ra words <<<"$MATRIX"
    for w in "${words[@]}"; do [[ "$base" == *"$w"* ]] && keep=1; done
    [ "$keep" = 1 ] || continue
  fi
  start=$(date +%s)
  printf '\n--- matrix: %s\n' "$base"
  if bash "$script"; then status=ok; else status=FAILED; failed+=("$base"); fi
  printf -- '--- matrix: %s %s in %ss\n' "$base" "$status" "$(( $(date +%s) - start ))"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "matrix: failed: ${failed[*]}"
  exit 1
fi
echo "matrix: all passed"
