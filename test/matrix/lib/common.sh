# What the test/matrix/*.sh scripts share; sourced as: . "$(dirname "$0")/lib/common.sh" NAME
# NAME is the script's name, printed before each of its lines.
matrix_name="${1:?script name}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"

# linux_only WHY: where this is not Linux, says so (WHY: what is set up for Linux) and exits 0.
linux_only() {
  if [ "$(uname -s)" != "Linux" ]; then
    echo "$matrix_name: skipped: $1; this is $(uname -s)"
    exit 0
  fi
}

# built FILE...: fails, saying to build, when a file the script needs is missing.
built() {
  local f
  for f in "$@"; do
    if [ ! -e "$f" ]; then
      echo "$matrix_name: build first (pnpm build): ${f#"$root"/} is missing" >&2
      exit 1
    fi
  done
}

# runtime_cmd NAME: sets the array `cmd` to what runs a script on runtime NAME (node: this machine's;
# node22, node24, bun, deno: fetched by test/runtime.sh; deno with `run -A`); says why and returns 1
# where it cannot be had.
runtime_cmd() {
  local bin
  if [ "$1" = node ]; then
    bin="$(command -v node)"
  elif ! bin="$(bash "$root/test/runtime.sh" "$1")"; then
    echo "$matrix_name: $1 skipped: test/runtime.sh could not provide it"
    return 1
  fi
  cmd=("$bin")
  [ "$1" = deno ] && cmd=("$bin" run -A)
  return 0
}
