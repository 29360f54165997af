// profile.mjs — where does one Node system spend its time on one workload?
//
//   node scripts/profile.mjs <system> <workload> <n> [windowMs]
//   e.g. node scripts/profile.mjs sp-epoll-start oneway 1000
//
// Runs src/child.mjs under `node --cpu-prof` and prints the functions with the most self time
// (JS and the native calls they make: a syscall's time shows up as the self time of the JS function
// that made it, e.g. readSync/writeSync), plus the share of idle, GC and "(program)" (native code
// outside JS: libuv, the addon, the kernel). If strace is installed, it also counts syscalls per event.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const [system, workload = 'oneway', n = '1000', windowMs = '2000'] = process.argv.slice(2);
if (!system) {
  console.error('usage: node scripts/profile.mjs <system> <workload> <n> [windowMs]');
  process.exit(2);
}
const cfg = JSON.stringify({ system, workload, n: Number(n), warmupMs: 300, windowMs: Number(windowMs), samples: 2000, gapUs: 1000 });
const dir = fs.mkdtempSync(join(os.tmpdir(), 'socketpoll-prof-'));
const out = execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--expose-gc', join(pkgRoot, 'src', 'child.mjs'), cfg], { encoding: 'utf8' });
const result = JSON.parse(out.trim().split('\n').pop());
const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const prof = JSON.parse(fs.readFileSync(join(dir, file), 'utf8'));

const byNode = new Map(prof.nodes.map((nd) => [nd.id, nd]));
const self = new Map();
const dt = prof.timeDeltas;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const nd = byNode.get(prof.samples[i]);
  const d = dt[i] ?? 0;
  const cf = nd.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url ? basename(cf.url) + ':' + (cf.lineNumber + 1) : ''}`.trim();
  self.set(key, (self.get(key) ?? 0) + d);
  total += d;
}
console.log(`${system} ${workload} N=${n}: ${result.eventsPerSec ? Math.round(result.eventsPerSec) + ' events/s' : `p50 ${result.p50} ns`} (profiled, so slower than in the benchmark)`);
console.log('self time, top 20:');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}
fs.rmSync(dir, { recursive: true, force: true });

// Syscalls per event, if strace is there.
if (spawnSync('strace', ['-V']).status === 0 && result.events) {
  const r = spawnSync('strace', ['-f', '-c', '-o', join(os.tmpdir(), 'socketpoll-strace.txt'), process.execPath, '--expose-gc', join(pkgRoot, 'src', 'child.mjs'), cfg], { encoding: 'utf8' });
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  const text = fs.readFileSync(join(os.tmpdir(), 'socketpoll-strace.txt'), 'utf8');
  console.log(`syscalls (strace -c, whole run incl. warm-up and setup; ${res.events} events in the window):`);
  for (const line of text.split('\n').slice(2, 12)) if (line.trim() && !line.startsWith('---')) console.log('  ' + line.trim());
}
