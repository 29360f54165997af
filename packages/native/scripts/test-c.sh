#!/usr/bin/env bash
# The C tests: every backend built on this OS, run by ctest three ways:
#   1. a normal build (-Wall -Wextra -Werror),
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build,
#   3. the normal build's test binaries under valgrind (leaks and invalid accesses are failures).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2

cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j "$jobs"
echo "== ctest (normal build)"
ctest --test-dir build/cmake --output-on-failure

cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DSOCKETPOLL_SANITIZE=ON >/dev/null
cmake --build build/asan -j "$jobs"
echo "== ctest (ASan + UBSan build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure

if command -v valgrind >/dev/null 2>&1; then
  echo "== valgrind (normal build's test binaries)"
  for t in build/cmake/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
      --error-exitcode=97 "$t" >/dev/null || { echo "valgrind: $t failed"; exit 1; }
    echo "valgrind clean: $t"
  done
else
  if [ "${CI:-}" = "true" ]; then echo "valgrind missing on CI"; exit 1; fi
  echo "valgrind not installed: skipping the valgrind pass (apt-get install valgrind)"
fi
