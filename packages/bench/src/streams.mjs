// streams.mjs — the stream rows of `pnpm bench`: a stream of 1-byte messages and one of 64 KiB
// chunks through an AF_UNIX socketpair, in each direction.
//   read   (Node reads what a C producer writes)   write   (Node writes what a C consumer reads)
//   sp-stream   @socketpoll/core readableFrom(fd)            writableTo(fd)          (the poller, no thread)
//   net-socket  new net.Socket({ fd })                       the same, writable      (libuv's own stream)
//   fs-stream   fs.createReadStream(null, { fd })            fs.createWriteStream    (libuv's thread pool:
//                                                                                     a blocking call per chunk)
// The C end (native/stream_peer.c) does one blocking write(2) per message, or blocking 256 KiB
// read(2)s, the same for every Node stream. Each cell is its own Node process: warm-up, then a
// window in which the bytes its stream delivered (read) or handed to the kernel (write) and the
// process's CPU time (user + system, all its threads) are counted. Cells are interleaved
// (A B C A B C …) and repeated; the report gives medians, the ratio of each stream's throughput to
// net.Socket's in the same repetition, and CPU ms per MiB.
//
//   node src/streams.mjs [--reps R] [--window MS] [--out DIR]     (default: 3 reps, 1000 ms windows, docs/benchmarks)
//        [--workloads msg1,chunk64k] [--readers sp-stream,net-socket,fs-stream]   (subsets; net-socket is the reference)
//        [--directions read,write]
//        [--baseline path/to/other/core/dist/index.js]   (adds sp-baseline: readableFrom/writableTo of that build)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const pkgRoot = dirname(dirname(here));
const repoRoot = resolve(pkgRoot, '..', '..');
const PEER = join(pkgRoot, 'build', 'bin', 'stream_peer');
const PEER_SRC = join(pkgRoot, 'native', 'stream_peer.c');
const READERS = ['sp-stream', 'net-socket', 'fs-stream'];
const WORKLOADS = [
  { id: 'msg1', label: '1-byte messages', chunk: 1 },
  { id: 'chunk64k', label: '64 KiB chunks', chunk: 65536 },
];
const DIRECTIONS = ['read', 'write'];
const MIB = 1024 * 1024;

/** Prints one cell's result: what moved in the window, and the CPU time it took. */
async function measureWindow(system, warmupMs, windowMs, moved) {
  await new Promise((r) => setTimeout(r, Number(warmupMs)));
  const [b0, c0] = moved();
  const cpu0 = process.cpuUsage();
  const ru0 = process.resourceUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, Number(windowMs)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const ru = process.resourceUsage();
  const [b1, c1] = moved();
  const mib = (b1 - b0) / MIB;
  process.stdout.write(
    `${JSON.stringify({ system, mibPerS: mib / seconds, cpuMsPerMib: (cpu.user + cpu.system) / 1000 / mib, chunksPerS: (c1 - c0) / seconds,
      // Taken off the CPU while runnable (preempted: other work on the machine), and sleeps (waits for data), per second.
      preemptedPerS: (ru.involuntaryContextSwitches - ru0.involuntaryContextSwitches) / seconds,
      sleptPerS: (ru.voluntaryContextSwitches - ru0.voluntaryContextSwitches) / seconds })}\n`,
  );
  process.exit(0);
}

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
  await measureWindow(system, warmupMs, windowMs, () => [bytes, chunks]);
}

// ---- writer (child process): fd 0 is the socketpair end ------------------------------------------
// Writes `chunk`-byte Buffers as fast as the stream takes them: write() until it returns false,
// then again on 'drain'. What reached the kernel is what was written minus the stream's buffer.
if (process.argv[2] === '--writer') {
  const [, , , system, chunkBytes, warmupMs, windowMs] = process.argv;
  const { createRequire } = await import('node:module');
  const require = createRequire(here);
  const options = { highWaterMark: 64 * 1024 };
  let stream;
  if (system === 'sp-stream') stream = require('@socketpoll/core').writableTo(0, options);
  else if (system === 'sp-baseline') stream = require(process.env.STREAMS_BASELINE_CORE).writableTo(0, options);
  else if (system === 'net-socket') stream = new (require('node:net').Socket)({ fd: 0, readable: false, writable: true });
  else if (system === 'fs-stream') stream = fs.createWriteStream(null, { fd: 0, autoClose: false, ...options });
  else throw new Error(`unknown writer ${system}`);
  const chunk = Buffer.alloc(Number(chunkBytes), 'x');
  let queued = 0;
  let chunks = 0;
  const pump = () => {
    for (;;) {
      queued += chunk.length;
      chunks++;
      if (!stream.write(chunk)) return void stream.once('drain', pump);
    }
  };
  stream.on('error', (err) => {
    console.error(`${system}: ${err.message}`);
    process.exit(1);
  });
  pump();
  // Chunks count as written once the stream has passed them on (the buffered ones are not).
  const perChunk = chunk.length;
  await measureWindow(system, warmupMs, windowMs, () => [queued - stream.writableLength, chunks - Math.ceil(stream.writableLength / perChunk)]);
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
const directions = only('--directions', DIRECTIONS);
const windowMs = Number(opt('--window', 1000));
const warmupMs = Math.max(100, Math.round(windowMs / 4));
const outDir = resolve(opt('--out', join(repoRoot, 'docs', 'benchmarks')));

if (!fs.existsSync(PEER) || fs.statSync(PEER).mtimeMs < fs.statSync(PEER_SRC).mtimeMs) {
  fs.mkdirSync(dirname(PEER), { recursive: true });
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', PEER, PEER_SRC], { stdio: 'inherit' });
}

function cell(direction, system, workload) {
  return new Promise((resolveCell, reject) => {
    const seconds = String((warmupMs + windowMs) / 1000 + 5);
    const args = direction === 'read' ? ['--reader', system] : ['--writer', system, String(workload.chunk)];
    const node = spawn(process.execPath, [here, ...args, String(warmupMs), String(windowMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
    // The C peer gets the other end of the Node process's stdin socketpair: as its fd 1 (it writes)
    // or its fd 0 (it reads).
    const peer = direction === 'read'
      ? spawn(PEER, ['write', String(workload.chunk), seconds], { stdio: ['ignore', node.stdin, 'inherit'] })
      : spawn(PEER, ['read', seconds], { stdio: [node.stdin, 'ignore', 'inherit'] });
    node.stdin.destroy(); // only the peer holds that end now
    let out = '';
    node.stdout.on('data', (d) => (out += d));
    node.on('exit', (code) => {
      peer.kill();
      if (code !== 0) return reject(new Error(`${direction} ${system} ${workload.id}: exited ${code}`));
      resolveCell(JSON.parse(out));
    });
  });
}

const results = [];
const loadAvgStart = os.loadavg()[0];
for (let rep = 0; rep < reps; rep++) {
  for (const direction of directions) {
    for (const workload of workloads) {
      const order = readers.map((_, i) => readers[(i + rep) % readers.length]);
      for (const system of order) {
        const r = await cell(direction, system, workload);
        results.push({ rep, direction, workload: workload.id, loadAvg1: os.loadavg()[0], ...r });
        console.log(
          `rep ${rep} ${direction} ${workload.id} ${system}: ${r.mibPerS.toFixed(1)} MiB/s, ${r.cpuMsPerMib.toFixed(2)} CPU ms/MiB, ${Math.round(r.chunksPerS)} chunks/s, ` +
            `preempted ${Math.round(r.preemptedPerS)}/s, slept ${Math.round(r.sleptPerS)}/s`,
        );
      }
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const LABELS = {
  read: {
    'sp-stream': '@socketpoll/core `readableFrom(fd)`',
    'net-socket': '`new net.Socket({ fd })`',
    'fs-stream': '`fs.createReadStream(null, { fd })`',
    'sp-baseline': `\`readableFrom(fd)\` of ${baseline}`,
  },
  write: {
    'sp-stream': '@socketpoll/core `writableTo(fd)`',
    'net-socket': '`new net.Socket({ fd })`',
    'fs-stream': '`fs.createWriteStream(null, { fd })`',
    'sp-baseline': `\`writableTo(fd)\` of ${baseline}`,
  },
};
/** One direction's table: medians, and the ratio to net.Socket in the same repetition. */
function table(direction, streamColumn) {
  const rows = [`| workload | ${streamColumn} | MiB/s (median) | ratio to net.Socket | ratio range | CPU ms per MiB | chunks/s |`, '|---|---|---:|---:|---:|---:|---:|'];
  for (const w of workloads) {
    for (const system of readers) {
      const cells = results.filter((r) => r.direction === direction && r.workload === w.id && r.system === system);
      const reference = (r) => results.find((x) => x.rep === r.rep && x.direction === direction && x.workload === w.id && x.system === 'net-socket');
      const ratios = cells.map((r) => r.mibPerS / reference(r).mibPerS);
      rows.push(
        `| ${w.label} | ${LABELS[direction][system]} | ${median(cells.map((r) => r.mibPerS)).toFixed(1)} | ${median(ratios).toFixed(2)}× | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} | ${median(cells.map((r) => r.cpuMsPerMib)).toFixed(2)} | ${Math.round(median(cells.map((r) => r.chunksPerS)))} |`,
      );
    }
  }
  return rows;
}
const lines = [
  '# Stream benchmark: a socketpair read and written through Node streams',
  '',
  `Generated by \`node packages/bench/src/streams.mjs\` (part of \`pnpm bench\`) on ${new Date().toISOString().slice(0, 10)},`,
  `Node ${process.version}, ${reps} interleaved repetitions of a ${windowMs} ms window per cell (after ${warmupMs} ms of warm-up),`,
  `${os.cpus().length} CPUs, load average (1 min) ${loadAvgStart.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end.`,
  'Each cell is one Node process with one stream on an AF_UNIX socketpair, and a C program',
  '(`native/stream_peer.c`) at the other end, the same for every stream. The Node process counts the',
  'bytes its stream moved and its own CPU time (user + system, all threads). Ratios are to',
  '`net.Socket` in the same repetition (median of the per-repetition ratios, and their range: on a',
  'loaded machine single repetitions swing, so read the median).',
];
if (directions.includes('read')) {
  lines.push(
    '',
    '## Reading',
    '',
    'The C producer writes one message per blocking `write(2)`. With 1-byte messages the kernel',
    'coalesces what arrives while the reader is busy, so a reader reads several messages per',
    '`read(2)`: the producer (one syscall per byte) bounds the throughput, and CPU time per MiB is the',
    'figure that tells the readers apart.',
    '',
    ...table('read', 'reader'),
    '',
    '`fs.createReadStream` reads in libuv\'s thread pool: each read blocks a pool thread until data',
    'arrives (one of 4 by default; a quiet FIFO or pty holds it indefinitely). `readableFrom` and',
    '`net.Socket` wait on the event loop (readableFrom through the poller: no thread on epoll).',
  );
}
if (directions.includes('write')) {
  lines.push(
    '',
    '## Writing',
    '',
    'The Node process writes Buffers of the message size as fast as its stream takes them',
    '(`write()` until it returns `false`, then again on `\'drain\'`, high-water mark 64 KiB for the',
    'socketpoll and fs streams, the default for `net.Socket`); a byte counts once the stream has',
    'passed it to the kernel. The C consumer reads with blocking 256 KiB `read(2)`s.',
    '',
    ...table('write', 'writer'),
    '',
    '`writableTo` and `net.Socket` write a chunk at once when the socket has room, so 1-byte messages',
    'cost them one `write(2)` each. `fs.createWriteStream` writes in libuv\'s thread pool: while one',
    'write is out, the chunks behind it pile up and go in one `writev(2)`, which is why it moves more',
    'small messages, and it holds a pool thread for as long as the socket is full.',
  );
}
lines.push('');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(join(outDir, 'streams.json'), `${JSON.stringify({ node: process.version, reps, windowMs, warmupMs, results }, null, 2)}\n`);
fs.writeFileSync(join(outDir, 'streams.md'), `${lines.join('\n')}`);
console.log(lines.join('\n'));
