#!/usr/bin/env bash
# GPIO edge-to-callback latency and CPU per edge, socketpoll (Node) against a C reader of the same
# kind of fd (epoll + read), in the device lab on a gpio-sim line driven by a paced C generator.
# Interleaved repetitions; prints one JSON line per run, then the medians and ratios.
#   (host)  gcc -O2 -static -o .cache/lab/edges packages/gpio/bench/edges.c
#   (guest) bash packages/gpio/bench/run.sh .cache/lab/edges [reps] [seconds]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
edges="$1" reps="${2:-3}" secs="${3:-1}"
sim=/sys/kernel/config/gpio-sim/bench
mkdir "$sim" "$sim/bank0"; echo 1 >"$sim/bank0/num_lines"; echo 1 >"$sim/live"
chip=/dev/$(cat "$sim/bank0/chip_name")
pull=/sys/devices/platform/$(cat "$sim/dev_name")/$(cat "$sim/bank0/chip_name")/sim_gpio0/pull
echo pull-down >"$pull"
out=$(mktemp)
for rep in $(seq 1 "$reps"); do
  for rate in 1000 10000; do
    count=$((rate * secs))
    readers=(c js); [ $((rep % 2)) = 0 ] && readers=(js c)
    for r in "${readers[@]}"; do
      fifo=$(mktemp -u); mkfifo "$fifo"
      if [ "$r" = c ]; then "$edges" read "$chip" 0 "$count" >"$fifo" & else node "$here/read.cjs" "$chip" 0 "$count" >"$fifo" & fi
      pid=$!
      exec {f}<"$fifo"
      read -r line <&"$f"   # "ready"
      "$edges" gen "$pull" "$rate" "$count" 2>/dev/null
      read -r line <&"$f"
      exec {f}<&-
      wait "$pid"; rm -f "$fifo"
      echo "pull-down" >"$pull"
      echo "{\"rep\":$rep,\"rate\":$rate,${line#\{}" | tee -a "$out"
    done
  done
done
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const med = (a) => { const s = a.slice().sort((x, y) => x - y); return s[s.length >> 1]; };
  for (const rate of [1000, 10000]) {
    const ratio = (k) => med(rows.filter((r) => r.rate === rate && r.reader === "js").map((js) => {
      const c = rows.find((r) => r.rate === rate && r.reader === "c" && r.rep === js.rep);
      return js[k] / c[k];
    }));
    const m = (reader, k) => med(rows.filter((r) => r.rate === rate && r.reader === reader).map((r) => r[k]));
    console.log(JSON.stringify({ rate, ratioP50: +ratio("p50us").toFixed(2), ratioP99: +ratio("p99us").toFixed(2),
      ratioCpuPerEvent: +ratio("cpuUsPerEvent").toFixed(2), missedJs: m("js", "missed"), missedC: m("c", "missed"),
      c: { p50us: m("c", "p50us"), p99us: m("c", "p99us"), cpuUsPerEvent: m("c", "cpuUsPerEvent") },
      js: { p50us: m("js", "p50us"), p99us: m("js", "p99us"), cpuUsPerEvent: m("js", "cpuUsPerEvent") } }));
  }
' "$out"
echo 0 >"$sim/live"; rmdir "$sim/bank0" "$sim"
