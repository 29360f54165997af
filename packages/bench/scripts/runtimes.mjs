// runtimes.mjs — the helper-thread path (sp-epoll-thread, oneway) on Node, Bun and Deno, side by side.
//
//   node scripts/runtimes.mjs [reps] [n,n,...]        (default: 5 repetitions, N = 1,100,1000)
//
// Bun and Deno come from test/runtime.sh (npm packages, fetched once into .cache/runtimes). Deno's
// fs takes only fds Deno opened itself, so every runtime does its I/O through the helper's
// read1/write1 here (SOCKETPOLL_BENCH_IO=helper): the rows compare like with like, and are a little
// cheaper per event than the report's, which use fs.readSync/fs.writeSync. Cells are interleaved,
// the order rotated per repetition; medians and [min–max] of events/s, median CPU µs per event.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = join(pkgRoot, '..', '..');
const reps = Number(process.argv[2] ?? 5);
const sizes = (process.argv[3] ?? '1,100,1000').split(',').map(Number);
const runtime = (name) => execFileSync('bash', [join(repoRoot, 'test', 'runtime.sh'), name], { encoding: 'utf8' }).trim();
const commands = { node: [process.execPath], bun: [runtime('bun')], deno: [runtime('deno'), 'run', '-A'] };
const names = Object.keys(commands);
const results = {};
for (let rep = 0; rep < reps; rep++) {
  for (const n of sizes) {
    const cfg = JSON.stringify({ system: 'sp-epoll-thread', workload: 'oneway', n, warmupMs: 300, windowMs: 1500 });
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + rep) % names.length];
      const [cmd, ...pre] = commands[name];
      const out = execFileSync(cmd, [...pre, join(pkgRoot, 'src', 'child.mjs'), cfg], {
        encoding: 'utf8',
        env: { ...process.env, SOCKETPOLL_BENCH_IO: 'helper' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      (results[`${n} ${name}`] ??= []).push(JSON.parse(out.trim().split('\n').pop()));
    }
  }
  console.error(`runtimes: repetition ${rep + 1}/${reps} done`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log('| N | runtime | events/s, median [min–max] | CPU µs per event |');
console.log('|---:|---|---:|---:|');
for (const n of sizes) {
  for (const name of names) {
    const rows = results[`${n} ${name}`];
    const eps = rows.map((r) => r.eventsPerSec);
    console.log(`| ${n} | ${name} | ${Math.round(median(eps) / 1000)}k [${Math.round(Math.min(...eps) / 1000)}k–${Math.round(Math.max(...eps) / 1000)}k] | ${(median(rows.map((r) => r.cpuNsPerEvent)) / 1000).toFixed(2)} |`);
  }
}
