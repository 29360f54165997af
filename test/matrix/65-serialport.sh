#!/usr/bin/env bash
# @socketpoll/serialport beyond its jest suite (which `pnpm test` runs on this Node):
#  - packages/serialport/test/runtimes/smoke.cjs over socat pty pairs on Node 20, 22 and 24, Bun and
#    Deno (binaries from npm, test/runtime.sh), and on the arm64 and armv7 Node builds under
#    qemu-user, which load the arm64 / armv7 prebuilt addons;
#  - on real 16550A UARTs in the device lab (test/lab): every option read back from the 8250 driver,
#    data bits and parity included, update, flush, drain and the modem lines over a null modem
#    (ttyS1 <-> ttyS2), on Node and, where the lab has them, Bun and Deno; then ttyS1 wired to a host
#    pty with data both ways.
# Each part that cannot run here says why and is skipped.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh" 65-serialport
pkg="$root/packages/serialport"
smoke="$pkg/test/runtimes/smoke.cjs"
say() { printf '65-serialport: %s\n' "$*"; }
failed=()
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
timed() { # timed <label> <command...>; output to a file (a pipe could be held open by a child)
  local label="$1" start=$SECONDS status=0; shift
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" = 0 ]; then
    say "$label: ok in $((SECONDS - start))s ($(grep -v '^\[' "$log" | grep -E 'passed|intact|skipped' | tail -3 | tr '\n' ' '))"
  else
    cat "$log"
    say "$label: FAILED (exit $status) in $((SECONDS - start))s"
    failed+=("$label")
  fi
}

linux_only "the pty and lab runs are set up for Linux"
built "$pkg/dist/index.js"
if ! command -v socat >/dev/null; then say "skipped: socat is not installed (apt-get install socat; .ci/run does)"; exit 0; fi
cd "$pkg"

# Other runtimes and Node lines, over pty pairs.
for name in node node22 node24 bun deno; do
  if [ "$name" = node ]; then bin="$(command -v node)"
  elif ! bin="$(bash "$root/test/runtime.sh" "$name")"; then say "$name skipped: test/runtime.sh could not provide it"; continue; fi
  cmd=("$bin"); [ "$name" = deno ] && cmd=("$bin" run -A)
  timed "$name (pty)" timeout 300 "${cmd[@]}" "$smoke"
done
# Node's other delivery path: the poller's helper thread (the one Bun and Deno use), on Node.
timed "node, helper-thread delivery (pty)" env SOCKETPOLL_DELIVERY=thread timeout 300 node "$smoke"
# The poll backend (its helper thread), where its source build is there.
if node -e "require('@socketpoll/core').loadBackend({ backend: 'poll' })" >/dev/null 2>&1; then
  timed "node, poll backend (pty)" env SOCKETPOLL_BACKEND=poll timeout 300 node "$smoke"
else
  say "node, poll backend skipped: @socketpoll/poll-fallback is not built here"
fi

# The ARM prebuilts, executed under qemu-user.
arm() { # <runtime> <qemu> <sysroot>
  local runtime="$1" qemu="$2" sysroot="$3" bin
  if ! command -v "$qemu" >/dev/null || [ ! -d "$sysroot" ]; then say "$runtime skipped: $qemu or $sysroot missing (.ci/run installs them)"; return; fi
  if ! bin="$(bash "$root/test/runtime.sh" "$runtime")"; then say "$runtime skipped: no binary"; return; fi
  timed "$runtime under $qemu (pty)" env SERIALPORT_SMOKE_QEMU=1 timeout 600 "$qemu" -L "$sysroot" "$bin" "$smoke"
}
arm node-arm64 qemu-aarch64-static /usr/aarch64-linux-gnu
arm node-armv7 qemu-arm-static /usr/arm-linux-gnueabihf

# Real UARTs in the device lab.
lab="$root/test/lab/lab.sh"
export LAB_SKIP_EXIT=77
start=$SECONDS
bash "$lab" prepare >"$log" 2>&1
status=$?
say "lab prepare: exit $status in $((SECONDS - start))s"
if [ "$status" = 77 ]; then
  say "lab runs skipped: $(grep -h 'lab: skipped' "$log" | tail -1)"
elif [ "$status" != 0 ]; then
  cat "$log"
  failed+=("lab prepare")
else
  timed "lab: 16550A null modem ttyS1<->ttyS2 (options, update, flush, drain, modem lines; Node 20/22/24, Bun, Deno)" \
    bash "$lab" run --serial null-modem -- bash test/lab/uart-runtimes.sh
  timed "lab: ttyS1 <-> host pty, 64 KiB both ways" \
    bash "$lab" run --serial host-pty --host 'node test/lab/host-pty.cjs host "$LAB_HOST_PTY"' -- node test/lab/host-pty.cjs guest /dev/ttyS1
fi

if [ "${#failed[@]}" -gt 0 ]; then say "failed: ${failed[*]}"; exit 1; fi
say "all passed"
