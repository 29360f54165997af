// timer-precision.mjs — how late a 10 ms repeating timer fires over 2 s: socketpoll's addTimer on
// each backend (start() delivery) against Node's setInterval, in the same process, repetitions
// interleaved. Writes timer-precision.json and timer-precision.md (the bench report includes it).
//
//   node src/timer-precision.mjs [outDir]        (default: docs/benchmarks)
//
// Lateness of one firing = when its callback ran − when it was due. addTimer is due on a fixed
// schedule (t0 + k × 10 ms: late expiries coalesce and the schedule does not drift); setInterval is
// due 10 ms after the previous callback began (how Node reschedules it), so its lateness is per
// interval and its drift shows in the firing count.
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
let core;
try {
  core = require('@socketpoll/core');
} catch {
  core = require(resolve(here, '../../core'));
}
const { SocketPoll } = core;

const INTERVAL = 10;
const DURATION = 2000;
const REPS = 3;
const outDir = resolve(process.argv[2] ?? join(here, '../../../docs/benchmarks'));
const KQUEUE_EMULATED = resolve(here, '../../native/gyp/build/Release/socketpoll_kqueue_emulated.node');

const systems = [
  { id: 'epoll', label: 'socketpoll epoll `addTimer` (timerfd)', options: { backend: 'epoll' } },
  { id: 'poll', label: 'socketpoll poll `addTimer` (poll() timeout)', options: { backend: 'poll' } },
  { id: 'kqueue', label: 'socketpoll kqueue `addTimer` (EVFILT_TIMER, on the Linux emulation)', options: { addonPath: KQUEUE_EMULATED } },
  { id: 'setInterval', label: 'Node `setInterval`' },
].filter((s) => process.platform === 'linux' || s.id === 'poll' || s.id === 'setInterval');

const now = () => performance.now();

function runSocketPoll(options) {
  return new Promise((done) => {
    const poll = new SocketPoll(options);
    const late = [];
    const t0 = now();
    poll.addTimer(INTERVAL, null, { repeat: true });
    poll.start(() => {
      const t = now() - t0;
      late.push(t - Math.floor(t / INTERVAL) * INTERVAL); // since the latest due time
      if (t >= DURATION) {
        poll.close();
        done(late);
      }
    });
  });
}

function runSetInterval() {
  return new Promise((done) => {
    const late = [];
    const t0 = now();
    let due = t0 + INTERVAL;
    const id = setInterval(() => {
      const t = now();
      late.push(t - due);
      due = t + INTERVAL;
      if (t - t0 >= DURATION) {
        clearInterval(id);
        done(late);
      }
    }, INTERVAL);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);

const results = Object.fromEntries(systems.map((s) => [s.id, []]));
for (let rep = 0; rep < REPS; rep++) {
  for (const s of systems) {
    const late = s.id === 'setInterval' ? await runSetInterval() : await runSocketPoll(s.options);
    results[s.id].push({ count: late.length, p50: pct(late, 50), p99: pct(late, 99), max: Math.max(...late) });
  }
}

const L = [];
L.push(`A ${INTERVAL} ms repeating timer over ${DURATION / 1000} s, ${REPS} interleaved repetitions, median of`);
L.push('the repetitions (range in brackets); lateness in milliseconds. Node ' + process.version + ', ' +
  `${process.platform} ${process.arch}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)} when it ended,` +
  ` measured ${new Date().toISOString().slice(0, 10)} (a shared machine: p99 and max swing between runs).`);
L.push('');
L.push('| timer | firings in 2 s (200 due) | lateness p50 | lateness p99 | max |');
L.push('|---|---:|---:|---:|---:|');
const fmt = (xs) => `${median(xs).toFixed(3)} [${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}]`;
for (const s of systems) {
  const r = results[s.id];
  L.push(`| ${s.label} | ${median(r.map((x) => x.count))} | ${fmt(r.map((x) => x.p50))} | ${fmt(r.map((x) => x.p99))} | ${fmt(r.map((x) => x.max))} |`);
}
L.push('');
L.push('addTimer lateness is measured against its fixed schedule (start + k × 10 ms; a firing that stands');
L.push('for coalesced expiries counts from the latest of them, and fewer than 200 firings means some were');
L.push('coalesced), setInterval\'s');
L.push('against 10 ms after its previous callback (Node reschedules from there, so it drifts: fewer');
L.push('firings in 2 s). Reproduce: `node packages/bench/src/timer-precision.mjs` (about 25 s).');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(join(outDir, 'timer-precision.json'), JSON.stringify({ interval: INTERVAL, duration: DURATION, reps: REPS, node: process.version, results }, null, 2) + '\n');
fs.writeFileSync(join(outDir, 'timer-precision.md'), '# Timer precision\n\n' + L.join('\n') + '\n');
console.log(L.join('\n'));
