#!/usr/bin/env bash
# Runs inside the lab's guest (lab.sh run --serial null-modem -- bash test/lab/selftest.sh): checks
# that what the device tests rely on is there: a gpio-sim chip made through configfs, a vcan
# interface, and the two UARTs wired to each other carrying bytes both ways.
set -euo pipefail
fail() { echo "selftest: FAILED: $*"; exit 1; }
echo "selftest: kernel $(uname -r), node $(node --version)"

sim=/sys/kernel/config/gpio-sim/selftest
mkdir "$sim" "$sim/bank0"
echo 8 >"$sim/bank0/num_lines"
echo 1 >"$sim/live"
chip=/dev/$(cat "$sim/bank0/chip_name")
[ -c "$chip" ] || fail "gpio-sim made no character device ($chip)"
echo 0 >"$sim/live"
rmdir "$sim/bank0" "$sim"
echo "selftest: gpio-sim made $chip"

ip link add dev vcan0 type vcan && ip link set vcan0 up || fail "vcan0 could not be made"
echo "selftest: vcan0 up"

for p in /dev/ttyS1 /dev/ttyS2; do stty -F "$p" raw -echo 115200; done
head -c 6 /dev/ttyS2 >/tmp/a & reader=$!
sleep 0.3
printf 'ping\r\n' >/dev/ttyS1
wait "$reader"
[ "$(cat /tmp/a)" = $'ping\r' ] || fail "ttyS1 -> ttyS2 carried '$(cat /tmp/a)'"
head -c 6 /dev/ttyS1 >/tmp/b & reader=$!
sleep 0.3
printf 'pong\r\n' >/dev/ttyS2
wait "$reader"
[ "$(cat /tmp/b)" = $'pong\r' ] || fail "ttyS2 -> ttyS1 carried '$(cat /tmp/b)'"
echo "selftest: ttyS1 <-> ttyS2 carried bytes both ways"
echo "selftest: ok"
