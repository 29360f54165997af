// streams.mjs — the stream rows of `pnpm bench`: a stream of 1-byte messages and one of 64 KiB
// chunks through an AF_UNIX socketpair, read by
//   sp-stream   @socketpoll/core readableFrom(fd)              (the poller, no thread)
//   net-socket  new net.Socket({ fd })                         (libuv's own stream)
//   fs-stream   fs.createReadStream(null, { fd })              (libuv's thread pool: a blocking read per chunk)
// The producer is a C program (native/stream_writer.c) doing one blocking write(2) per message, the
// same for every reader. Each cell is its own reader process: warm-up, then a window in which the
// bytes read and the process's CPU time (user + system, all its threads) are counted. Cells are
// interleaved (A B C A B C …) and repeated; the report gives medians, the ratio of each reader's
// throughput to net.Socket's in the same repetition, and CPU ms per MiB.
//
//   node src/streams.mjs [--reps R] [--window MS] [--out DIR]     (default: 3 reps, 1000 ms windows, docs/benchmarks)
//        [--workloads msg1,chunk64k] [--readers sp-stream,net-socket,fs-stream]   (subsets; net-socket is the reference)
//        [--baseline path/to/other/core/dist/index.js]   (adds reader sp-baseline: readableFrom of that build)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const pkgRoot = dirname(dirname(here));
const repoRoot = resolve(pkgRoot, '..', '..');
const WRITER = join(pkgRoot, 'build', 'bin', 'stream_writer');
const WRITER_SRC = join(pkgRoot, 'native', 'stream_writer.c');
const READERS = ['sp-stream', 'net-socket', 'fs-stream'];
const WORKLOADS = [
  { id: 'msg1', label: '1-byte messages', chunk: 1 },
  { id: 'chunk64k', label: '64 KiB chunks', chunk: 65536 },
];
const MIB = 1024 * 1024;

// ---- reader (child process): fd 0 is the socketpair end ------------------------------------------
if (process.argv[2] === '--reader') {
  const [, , , system, warmupMs, windowMs] = process.argv;
  const { createRequire } = await import('node:module');
  const require = createRequire(here);
  let stream;
  if (system === 'sp-stream') stream = require('@socketpoll/core').readableFrom(0, { highWaterMark: 64 * 1024 });
  else if (system === 'sp-baseline') stream = require(process.env.STREAMS_BASELINE_CORE).readableFrom(0, { highWaterMark: 64 * 1024 });
  else if (system === 'net-socket') stream = new (require('node:net').Socket)({ fd: 0, readable: true, writable: false });
  else if (system === 'fs-stream') stream = fs.createReadStream(null, { fd: 0, highWaterMark: 64 * 1024, autoClose: false });
  else throw new Error(`unknown reader ${system}`);
  let bytes = 0;
  let chunks = 0;
  stream.on('data', (c) => {
    bytes += c.length;
    chunks++;
  });
  stream.on('error', (err) => {
    console.error(`${system}: ${err.message}`);
    process.exit(1);
  });
  await new Promise((r) => setTimeout(r, Number(warmupMs)));
  const b0 = bytes;
  const c0 = chunks;
  const cpu0 = process.cpuUsage();
  const ru0 = process.resourceUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, Number(windowMs)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const ru = process.resourceUsage();
  const mib = (bytes - b0) / MIB;
  process.stdout.write(
    `${JSON.stringify({ system, mibPerS: mib / seconds, cpuMsPerMib: (cpu.user + cpu.system) / 1000 / mib, chunksPerS: (chunks - c0) / seconds,
      // Taken off the CPU while runnable (preempted: other work on the machine), and sleeps (waits for data), per second.
      preemptedPerS: (ru.involuntaryContextSwitches - ru0.involuntaryContextSwitches) / seconds,
      sleptPerS: (ru.voluntaryContextSwitches - ru0.voluntaryContextSwitches) / seconds })}\n`,
  );
  process.exit(0);
}

// ---- harness -------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const reps = Number(opt('--reps', 3));
const only = (name, all, key) => {
  const wanted = opt(name, undefined)?.split(',');
  if (!wanted) return all;
  const unknown = wanted.filter((w) => !all.some((x) => (key ? x[key] : x) === w));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.map((x) => (key ? x[key] : x)).join(', ')})`);
  return all.filter((x) => wanted.includes(key ? x[key] : x));
};
const workloads = only('--workloads', WORKLOADS, 'id');
// --baseline <built core's dist/index.js>: one more reader, readableFrom of another build (before/after a change).
const baseline = opt('--baseline', undefined);
if (baseline) {
  process.env.STREAMS_BASELINE_CORE = resolve(baseline);
  READERS.push('sp-baseline');
}
const readers = only('--readers', READERS);
const windowMs = Number(opt('--window', 1000));
const warmupMs = Math.max(100, Math.round(windowMs / 4));
const outDir = resolve(opt('--out', join(repoRoot, 'docs', 'benchmarks')));

if (!fs.existsSync(WRITER) || fs.statSync(WRITER).mtimeMs < fs.statSync(WRITER_SRC).mtimeMs) {
  fs.mkdirSync(dirname(WRITER), { recursive: true });
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', WRITER, WRITER_SRC], { stdio: 'inherit' });
}

function cell(system, workload) {
  return new Promise((resolveCell, reject) => {
    const reader = spawn(process.execPath, [here, '--reader', system, String(warmupMs), String(windowMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // The writer gets the other end of the reader's stdin socketpair as its fd 1.
    const writer = spawn(WRITER, [String(workload.chunk), String((warmupMs + windowMs) / 1000 + 5)], { stdio: ['ignore', reader.stdin, 'inherit'] });
    reader.stdin.destroy(); // only the writer holds that end now
    let out = '';
    reader.stdout.on('data', (d) => (out += d));
    reader.on('exit', (code) => {
      writer.kill();
      if (code !== 0) return reject(new Error(`${system} ${workload.id}: reader exited ${code}`));
      resolveCell(JSON.parse(out));
    });
  });
}

const results = [];
const loadAvgStart = os.loadavg()[0];
for (let rep = 0; rep < reps; rep++) {
  for (const workload of workloads) {
    const order = readers.map((_, i) => readers[(i + rep) % readers.length]);
    for (const system of order) {
      const r = await cell(system, workload);
      results.push({ rep, workload: workload.id, loadAvg1: os.loadavg()[0], ...r });
      console.log(
        `rep ${rep} ${workload.id} ${system}: ${r.mibPerS.toFixed(1)} MiB/s, ${r.cpuMsPerMib.toFixed(2)} CPU ms/MiB, ${Math.round(r.chunksPerS)} chunks/s, ` +
          `preempted ${Math.round(r.preemptedPerS)}/s, slept ${Math.round(r.sleptPerS)}/s`,
      );
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const LABELS = {
  'sp-stream': '@socketpoll/core `readableFrom(fd)`',
  'net-socket': '`new net.Socket({ fd })`',
  'fs-stream': '`fs.createReadStream(null, { fd })`',
  'sp-baseline': `\`readableFrom(fd)\` of ${baseline}`,
};
const lines = [
  '# Stream benchmark: reading a socketpair through a Node stream',
  '',
  `Generated by \`node packages/bench/src/streams.mjs\` (part of \`pnpm bench\`) on ${new Date().toISOString().slice(0, 10)},`,
  `Node ${process.version}, ${reps} interleaved repetitions of a ${windowMs} ms window per cell (after ${warmupMs} ms of warm-up),`,
  `${os.cpus().length} CPUs, load average (1 min) ${loadAvgStart.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end.`,
  'A C producer writes one message per blocking `write(2)` into an AF_UNIX socketpair; the reader',
  'process counts the bytes its stream delivers and its own CPU time (user + system, all threads).',
  'Ratios are to `net.Socket` in the same repetition (median of the per-repetition ratios, and their',
  'range: on a loaded machine single repetitions swing, so read the median). With',
  '1-byte messages the kernel coalesces what arrives while the reader is busy, so a reader reads',
  'several messages per `read(2)`: the producer (one syscall per byte) bounds the throughput, and CPU',
  'time per MiB is the figure that tells the readers apart.',
  '',
  '| workload | reader | MiB/s (median) | ratio to net.Socket | ratio range | CPU ms per MiB | chunks/s |',
  '|---|---|---:|---:|---:|---:|---:|',
];
for (const w of workloads) {
  for (const system of readers) {
    const rows = results.filter((r) => r.workload === w.id && r.system === system);
    const ratios = rows.map((r) => r.mibPerS / results.find((x) => x.rep === r.rep && x.workload === w.id && x.system === 'net-socket').mibPerS);
    lines.push(
      `| ${w.label} | ${LABELS[system]} | ${median(rows.map((r) => r.mibPerS)).toFixed(1)} | ${median(ratios).toFixed(2)}× | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} | ${median(rows.map((r) => r.cpuMsPerMib)).toFixed(2)} | ${Math.round(median(rows.map((r) => r.chunksPerS)))} |`,
    );
  }
}
lines.push(
  '',
  '`fs.createReadStream` reads in libuv\'s thread pool: each read blocks a pool thread until data',
  'arrives (one of 4 by default; a quiet FIFO or pty holds it indefinitely). `readableFrom` and',
  '`net.Socket` wait on the event loop (readableFrom through the poller: no thread on epoll).',
  '',
);
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(join(outDir, 'streams.json'), `${JSON.stringify({ node: process.version, reps, windowMs, warmupMs, results }, null, 2)}\n`);
fs.writeFileSync(join(outDir, 'streams.md'), `${lines.join('\n')}`);
console.log(lines.join('\n'));
