// compare.mjs — a quick side-by-side of a few systems on one workload, by CPU time per event (less
// sensitive to a loaded machine than events/s), interleaved and repeated; prints medians and each
// system's median per-repetition ratio to the first one. Not part of the report.
//
//   node scripts/compare.mjs <workload> <n> <system,system,...> [reps] [windowMs] [rate]
//   e.g. node scripts/compare.mjs oneway 1 uv-poll,sp-epoll-start,sp-epoll-native 9
//        node scripts/compare.mjs paced 1 c-epoll-level,sp-epoll-start 5 1000 10000
//        node scripts/compare.mjs latency 1 c-epoll-level,sp-epoll-start 5      (p50 of 500 samples, 1 ms apart)
// Each system may carry environment for its process after a colon:
//   sp-epoll-start:SOCKETPOLL_BENCH_ADDON=/path/to/other/socketpoll.node
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byId } from '../src/systems.mjs';

const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const [workload, n, list, reps = '7', windowMs = '400', rate = '10000'] = process.argv.slice(2);
if (!list) {
  console.error('usage: node scripts/compare.mjs <workload> <n> <system,...> [reps] [windowMs] [rate]');
  process.exit(2);
}
const variants = list.split(',').map((v) => {
  const [id, ...env] = v.split(':');
  return { name: v, id, env: Object.fromEntries(env.map((e) => e.split('='))) };
});
const warmupMs = workload === 'paced' ? 500 : 150;
const rows = new Map(variants.map((v) => [v.name, []]));
for (let rep = 0; rep < Number(reps); rep++) {
  const order = variants.map((_, i) => variants[(i + rep) % variants.length]);
  for (const v of order) {
    const s = byId[v.id];
    const args = s.kind === 'c'
      ? [join(pkgRoot, 'build', 'bin', 'anchor'), [s.arg, workload, n, String(warmupMs), windowMs, ...(workload === 'paced' ? [rate] : [])]]
      : [process.execPath, ['--expose-gc', join(pkgRoot, 'src', 'child.mjs'), JSON.stringify({ system: v.id, workload, n: Number(n), warmupMs, windowMs: Number(windowMs), rate: Number(rate), samples: 500, gapUs: 1000 })]];
    if (s.kind === 'c' && workload === 'latency') args[1].push('500', '1000');
    const r = spawnSync(args[0], args[1], { encoding: 'utf8', env: { ...process.env, ...v.env } });
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    rows.get(v.name)[rep] = out;
  }
}
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const first = rows.get(variants[0].name);
if (workload === 'latency') {
  for (const v of variants) {
    const rs = rows.get(v.name);
    const p50 = median(rs.map((r) => r.p50));
    const ratio = median(rs.map((r, i) => r.p50 / first[i].p50));
    console.log(`${v.name.padEnd(40)} p50 ${(p50 / 1000).toFixed(1).padStart(6)} µs  ×${ratio.toFixed(3)} of ${variants[0].name}  p99 ${(median(rs.map((r) => r.p99)) / 1000).toFixed(1)} µs`);
  }
  process.exit(0);
}
for (const v of variants) {
  const rs = rows.get(v.name);
  const cpu = median(rs.map((r) => r.cpuNsPerEvent));
  const ratio = median(rs.map((r, i) => r.cpuNsPerEvent / first[i].cpuNsPerEvent));
  const eps = median(rs.map((r) => r.eventsPerSec));
  console.log(`${v.name.padEnd(40)} CPU ${(cpu / 1000).toFixed(2).padStart(6)} µs/event  ×${ratio.toFixed(3)} of ${variants[0].name}  ${Math.round(eps)} events/s`);
}
