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
