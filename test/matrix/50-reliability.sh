#!/usr/bin/env bash
# The short soak on every backend (the bad-input, fault and model-based fuzzing suites run in core's
# jest suite): 2,000 registered socketpairs, 200,000 events through start(), registration churn,
# RSS sampled and /proc/self/fd counted. Fails on RSS growth after warm-up, an fd left open, a
# moving fd count, or a byte lost or misattributed. The full run's command is in docs/reliability.md.
# SOAK_PAIRS / SOAK_EVENTS override the size.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d /proc/self/fd ]; then
  echo "reliability: skipped, no /proc/self/fd here (Linux only)"
  exit 0
fi
release=packages/native/gyp/build/Release
if [ ! -f packages/core/dist/index.js ] || [ ! -f "$release/fd_helper.node" ]; then
  echo "reliability: packages/core/dist or $release/fd_helper.node missing: run \`pnpm build\`"
  exit 1
fi
backends=(epoll poll)
[ -f "$release/socketpoll_kqueue_emulated.node" ] && backends+=(kqueue)
for backend in "${backends[@]}"; do
  node packages/core/scripts/soak.js --backend "$backend" --pairs "${SOAK_PAIRS:-2000}" --events "${SOAK_EVENTS:-200000}" |
    node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(`soak ${r.backend}: ${r.pairs} pairs, ${r.events} events in ${r.seconds} s, RSS ${r.rssWarmMb} -> ${r.rssEndMb} MB after warm-up, fds ${r.fdsBefore} -> ${r.fdsWhileRunning} -> ${r.fdsAfter}, ${r.churn} del/add, seed ${r.seed}`)'
done
