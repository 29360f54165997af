#!/usr/bin/env bash
# Installs the packed packages into fresh npm projects, as a user would, and loads them:
#   1. @socketpoll/core with the linux-x64 prebuilt: epoll, from @socketpoll/epoll-linux-x64;
#   2. @socketpoll/core with the prebuilts absent (--omit=optional) and the source package
#      installed: its install script compiles from the packed sources, and the loader gives epoll
#      from the source build (poll with backend: 'poll');
#   3. @socketpoll/core with the prebuilt and the source package as core's optional dependency
#      only (its packed tarball through an npm override): its install script finds the prebuilt
#      that fits this machine, says so and compiles nothing.
# Linux x64 only (the prebuilt under test).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then echo "skipped: the packed prebuilt is linux-x64"; exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
for pkg in core epoll-linux-x64 poll-fallback; do
  (cd "packages/$pkg" && pnpm pack --pack-destination "$work" >/dev/null)
done
core="$(ls "$work"/socketpoll-core-*.tgz)"; prebuilt="$(ls "$work"/socketpoll-epoll-linux-x64-*.tgz)"; source="$(ls "$work"/socketpoll-poll-fallback-*.tgz)"
check='const c = require("@socketpoll/core"); const p = new c.SocketPoll(); const { loadBackend } = c; console.log(p.backendName, loadBackend().addonPath.includes(process.argv[1]) ? "from " + process.argv[1] : "from elsewhere: " + loadBackend().addonPath); p.close();'

mkdir "$work/app-prebuilt" && cd "$work/app-prebuilt" && npm init -y >/dev/null
npm install --no-audit --no-fund --omit=optional "$core" "$prebuilt" >/dev/null
got="$(node -e "$check" epoll-linux-x64)"
echo "prebuilt install: $got"
[ "$got" = "epoll from epoll-linux-x64" ]

mkdir "$work/app-source" && cd "$work/app-source" && npm init -y >/dev/null
npm install --no-audit --no-fund --omit=optional --foreground-scripts "$core" "$source" > install.log 2>&1 || { cat install.log; exit 1; }
grep -E "poll-fallback: built" install.log
got="$(node -e "$check" poll-fallback)"
echo "source install: $got"
[ "$got" = "epoll from poll-fallback" ]
got="$(SOCKETPOLL_BACKEND=poll node -e "$check" poll-fallback)"
echo "source install, SOCKETPOLL_BACKEND=poll: $got"
[ "$got" = "poll from poll-fallback" ]

mkdir "$work/app-both" && cd "$work/app-both"
printf '{"name":"app-both","version":"1.0.0","private":true,"dependencies":{"@socketpoll/core":"file:%s","@socketpoll/epoll-linux-x64":"file:%s"},"overrides":{"@socketpoll/poll-fallback":"file:%s"}}\n' "$core" "$prebuilt" "$source" > package.json
npm install --no-audit --no-fund --foreground-scripts > install.log 2>&1 || { cat install.log; exit 1; }
grep -E "poll-fallback: nothing to build" install.log || { cat install.log; echo "the source package's install did not say it had nothing to build"; exit 1; }
[ -d node_modules/@socketpoll/poll-fallback ] || { echo "the source package was not installed"; exit 1; }
if ls node_modules/@socketpoll/poll-fallback/built.json node_modules/@socketpoll/poll-fallback/socketpoll_*.node 2>/dev/null; then echo "the source package built where the prebuilt fits"; exit 1; fi
got="$(node -e "$check" epoll-linux-x64)"
echo "prebuilt and source package installed: $got, nothing compiled"
[ "$got" = "epoll from epoll-linux-x64" ]
