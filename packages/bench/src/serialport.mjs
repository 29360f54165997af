// serialport.mjs — @socketpoll/serialport's binding against @serialport/bindings-cpp (from npm, its
// linux-x64 prebuild), both under the same SerialPortStream, over socat pseudo-terminals, repetitions
// interleaved (order rotated each one), one process per cell (src/serialport-child.cjs):
//   - write64k: the stream writes 64 KiB Buffers as fast as it takes them (socat discards them);
//   - read: socat writes /dev/zero into the pty as fast as it can;
//   - paced at 115 200 baud and at 1 Mbaud (11 520 and 100 000 bytes/s) in 16-byte chunks
//     (src/serialport-pacer.cjs, a 1 ms tick): CPU time per byte received.
// socketpoll runs on Node, Bun and Deno; bindings-cpp on Node only (it does not work on the others).
// Writes serialport.json and serialport.md (the bench report includes the latter).
//
//   node src/serialport.mjs [outDir] [--reps 3] [--window 1000] [--only write64k,read,paced115200,paced1M]
//   node src/serialport.mjs [outDir] --report     (serialport.md again from serialport.json)
//   (default outDir: docs/benchmarks)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { commandLine, gitCommit, median, pkgRoot, repo, srcDir } from './common.mjs';

const { args, option, outDir } = commandLine();
const REPS = option('reps', 3);
const WINDOW = option('window', 1000);
const WARMUP = 300;
const CHUNK = 16;

function runtimeBin(name) {
  if (name === 'node') return [process.execPath];
  const r = spawnSync('bash', [join(repo, 'test/runtime.sh'), name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const bin = r.stdout.trim();
  return name === 'deno' ? [bin, 'run', '-A'] : [bin];
}

const RUNTIMES = Object.fromEntries(['node', 'bun', 'deno'].map((n) => [n, runtimeBin(n)]));
const SYSTEMS = [
  { id: 'cpp-node', binding: 'cpp', runtime: 'node', label: '@serialport/bindings-cpp 13.0.1, Node' },
  { id: 'sp-node', binding: 'socketpoll', runtime: 'node', label: '@socketpoll/serialport, Node' },
  { id: 'sp-bun', binding: 'socketpoll', runtime: 'bun', label: '@socketpoll/serialport, Bun' },
  { id: 'sp-deno', binding: 'socketpoll', runtime: 'deno', label: '@socketpoll/serialport, Deno' },
].filter((s) => RUNTIMES[s.runtime] !== undefined);
const ALL_WORKLOADS = [
  { id: 'write64k', label: 'write, 64 KiB Buffers', baudRate: 115200 },
  { id: 'read', label: 'read, as fast as the peer writes', baudRate: 115200 },
  { id: 'paced115200', label: 'read, paced at 115 200 baud (11 520 B/s) in 16-byte chunks', baudRate: 115200, rate: 11520 },
  { id: 'paced1M', label: 'read, paced at 1 Mbaud (100 000 B/s) in 16-byte chunks', baudRate: 1000000, rate: 100000 },
];
const onlyArg = args.indexOf('--only');
const WORKLOADS = onlyArg < 0 ? ALL_WORKLOADS : ALL_WORKLOADS.filter((w) => args[onlyArg + 1].split(',').includes(w.id));

const dir = fs.mkdtempSync(join(os.tmpdir(), 'sp-bench-'));
let serial = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(paths) {
  for (let i = 0; !paths.every((p) => fs.existsSync(p)); i++) {
    if (i > 2000) throw new Error(`socat made no ${paths.join(', ')}`);
    await sleep(5);
  }
}

/** Starts the peer of `workload`; resolves with the port's path and a stop function. */
async function peer(workload) {
  const n = serial++;
  const a = join(dir, `a${n}`);
  const procs = [];
  const pty = `pty,raw,echo=0,link=${a}`;
  if (workload.id === 'write64k') procs.push(spawn('socat', ['-u', pty, '/dev/null'], { stdio: 'ignore' }));
  else if (workload.id === 'read') procs.push(spawn('socat', ['-u', '/dev/zero', pty], { stdio: 'ignore' }));
  else {
    const b = join(dir, `b${n}`);
    procs.push(spawn('socat', [pty, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' }));
    await waitFor([b]);
    procs.push(spawn(process.execPath, [join(srcDir, 'serialport-pacer.cjs'), b, String(workload.rate), String(CHUNK)], { stdio: 'ignore' }));
  }
  await waitFor([a]);
  return {
    path: a,
    stop: async () => {
      for (const p of procs.reverse()) {
        if (p.exitCode === null && p.signalCode === null) {
          const gone = new Promise((r) => p.once('exit', r));
          p.kill('SIGKILL');
          await gone;
        }
      }
    },
  };
}

async function cell(system, workload) {
  const p = await peer(workload);
  try {
    const cfg = { binding: system.binding, workload: workload.id === 'write64k' ? 'write64k' : 'read', path: p.path, baudRate: workload.baudRate, warmupMs: WARMUP, windowMs: WINDOW };
    const [bin, ...pre] = RUNTIMES[system.runtime];
    const r = spawnSync(bin, [...pre, join(srcDir, 'serialport-child.cjs'), JSON.stringify(cfg)], { cwd: pkgRoot, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`${system.id} ${workload.id} failed (${r.status}):\n${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    await p.stop();
  }
}

let raw;
if (args.includes('--report')) {
  fs.rmSync(dir, { recursive: true, force: true });
  raw = JSON.parse(fs.readFileSync(join(outDir, 'serialport.json'), 'utf8')); // rewrite serialport.md only
} else {
  raw = await measure();
  fs.writeFileSync(join(outDir, 'serialport.json'), JSON.stringify(raw, null, 1));
}
writeReport(raw);

async function measure() {
  const t0 = Date.now();
  const load0 = os.loadavg();
  const results = {}; // results[workload][system] = [{ bytes, cpuUs, wallMs }]
  for (let rep = 0; rep < REPS; rep++) {
    for (const w of WORKLOADS) {
      const order = SYSTEMS.map((_, i) => SYSTEMS[(i + rep) % SYSTEMS.length]);
      for (const s of order) {
        const r = await cell(s, w);
        ((results[w.id] ??= {})[s.id] ??= []).push(r);
        console.log(`rep ${rep + 1}/${REPS} ${w.id} ${s.id}: ${(r.bytes / r.wallMs / 1.024).toFixed(1)} KiB/s, ${(r.cpuUs / Math.max(1, r.bytes)).toFixed(3)} CPU µs/byte`);
      }
    }
  }
  const load1 = os.loadavg();
  const wallS = Math.round((Date.now() - t0) / 1000);
  fs.rmSync(dir, { recursive: true, force: true });

  const commit = gitCommit() ?? '';
  const versions = {
    node: process.version,
    bun: RUNTIMES.bun ? execFileSync(RUNTIMES.bun[0], ['--version'], { encoding: 'utf8' }).trim() : undefined,
    deno: RUNTIMES.deno ? /deno (\S+)/.exec(execFileSync(RUNTIMES.deno[0], ['--version'], { encoding: 'utf8' }))?.[1] : undefined,
  };
  return { date: new Date().toISOString(), commit, reps: REPS, windowMs: WINDOW, warmupMs: WARMUP, chunk: CHUNK, cpus: os.cpus().length, load: [load0, load1], versions, wallS, systems: SYSTEMS, workloads: WORKLOADS, results };
}

// The report.
function writeReport(raw) {
  const { results, versions, commit, wallS } = raw;
  const [load0, load1] = raw.load;
  const SYSTEMS = raw.systems;
  const WORKLOADS = raw.workloads;
  const { reps: REPS, warmupMs: WARMUP, windowMs: WINDOW } = raw;
  const L = [];
  const when = raw.date.slice(0, 16).replace('T', ' ');
  L.push('# serialport: @socketpoll/serialport against @serialport/bindings-cpp');
  L.push('');
  L.push(`Generated by \`node packages/bench/src/serialport.mjs\` on ${when} UTC at ${commit}. Raw numbers: [serialport.json](serialport.json).`);
  L.push('');
  L.push(
    `Both bindings under the same \`SerialPortStream\` (@serialport/stream 13), on a socat pseudo-terminal, one process per cell, ${REPS} interleaved repetitions (order rotated), ${WARMUP} ms warm-up then a ${WINDOW} ms window; median [min–max] over repetitions. ` +
      `CPU is the measured process's user + system time over the window (all its threads: bindings-cpp reads in libuv's thread pool); the peer's (socat, the pacer) is not counted. ` +
      `A pty has no line speed: \`baudRate\` is set but does not pace anything, so the paced rows pace the peer. ` +
      `Machine: ${raw.cpus} cores shared by four agents working at the same time (load average ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end): single repetitions swing, ratios from the same repetition are what to compare. ` +
      `Node ${versions.node}${versions.bun ? `, Bun ${versions.bun}` : ''}${versions.deno ? `, Deno ${versions.deno}` : ''}; bindings-cpp only on Node (it does not run on Bun or Deno). Wall time ${wallS} s.`,
  );
  L.push('');
  const fmtRange = (xs, f) => `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]`;
  const kib = (x) => (x / 1024).toFixed(x >= 10240 ? 0 : 1);
  for (const w of WORKLOADS) {
    L.push(`## ${w.label}`);
    L.push('');
    const paced = w.rate !== undefined;
    L.push(paced ? '| binding, runtime | received KiB/s | CPU µs per byte | CPU % of one core | ratio of CPU per byte to bindings-cpp |' : '| binding, runtime | KiB/s | CPU µs per byte | ratio of throughput to bindings-cpp |');
    L.push(paced ? '|---|---:|---:|---:|---:|' : '|---|---:|---:|---:|');
    const base = results[w.id]['cpp-node'];
    for (const s of SYSTEMS) {
      const rs = results[w.id][s.id];
      const rate = rs.map((r) => (r.bytes / r.wallMs) * 1000);
      const perByte = rs.map((r) => r.cpuUs / Math.max(1, r.bytes));
      const pct = rs.map((r) => (r.cpuUs / 1000 / r.wallMs) * 100);
      let ratio = '–';
      if (base && s.id !== 'cpp-node') {
        const per = rs.map((r, i) => (paced ? r.cpuUs / Math.max(1, r.bytes) / (base[i].cpuUs / Math.max(1, base[i].bytes)) : r.bytes / r.wallMs / (base[i].bytes / base[i].wallMs)));
        ratio = `${median(per).toFixed(2)}× [${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}]`;
      } else if (s.id === 'cpp-node') ratio = '1.00×';
      if (paced) L.push(`| ${s.label} | ${fmtRange(rate, kib)} | ${fmtRange(perByte, (x) => x.toFixed(3))} | ${fmtRange(pct, (x) => x.toFixed(1))} | ${ratio} |`);
      else L.push(`| ${s.label} | ${fmtRange(rate, kib)} | ${fmtRange(perByte, (x) => x.toFixed(4))} | ${ratio} |`);
    }
    L.push('');
  }
  // The goal, on Node: ratios of the same repetition, medians.
  const ratio = (w, f) => {
    const a = results[w]?.['sp-node'];
    const b = results[w]?.['cpp-node'];
    return a && b ? median(a.map((r, i) => f(r) / f(b[i]))) : undefined;
  };
  const speed = (r) => r.bytes / r.wallMs;
  const cpuPerByte = (r) => r.cpuUs / Math.max(1, r.bytes);
  L.push('Goals on Node (reported, not timed tests), median of the per-repetition ratios:');
  L.push('');
  L.push('| goal | measured | |');
  L.push('|---|---|---|');
  for (const [w, what, f, atLeast] of [
    ['write64k', 'throughput with 64 KiB writes ≥ bindings-cpp\'s', speed, true],
    ['read', 'read throughput ≥ bindings-cpp\'s', speed, true],
    ['paced115200', 'CPU per byte at 115 200 baud ≤ bindings-cpp\'s', cpuPerByte, false],
    ['paced1M', 'CPU per byte at 1 Mbaud ≤ bindings-cpp\'s', cpuPerByte, false],
  ]) {
    const r = ratio(w, f);
    if (r === undefined) continue;
    L.push(`| ${what} | ${r.toFixed(2)}× | ${(atLeast ? r >= 1 : r <= 1) ? 'met' : '**missed**'} |`);
  }
  L.push('');
  fs.writeFileSync(join(outDir, 'serialport.md'), L.join('\n'));
  console.log(`serialport: wrote ${join(outDir, 'serialport.md')} in ${wallS} s`);
}
