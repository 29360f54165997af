// run.mjs — runs every system × workload × N, interleaved (A B C A B C …), each in its own process,
// and writes results.json (raw) + README.md (report) + SVG charts.
//
//   node --expose-gc src/run.mjs [--quick] [--out DIR] [--reps R] [--systems a,b] [--workloads a,b]
//                                [--warmup MS] [--window MS] [--samples S] [--gap-us US] [--latency-chunks K]
//
// Full mode (`pnpm bench`) writes into docs/benchmarks/ (about 15 minutes on 2 cores);
// --quick (`pnpm --filter @socketpoll/bench run bench:quick`) takes seconds, uses small N and writes
// into packages/bench/build/quick/ unless --out is given. Quick mode checks that every system runs and
// produces numbers (a system that cannot run fails it, unless --allow-skip); it asserts nothing about speed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEMS, THROUGHPUT_WORKLOADS, byId } from './systems.mjs';
import { writeReport } from './report.mjs';

const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = resolve(pkgRoot, '..', '..');
const ANCHOR = join(pkgRoot, 'build', 'bin', 'anchor');
const CHILD = join(pkgRoot, 'src', 'child.mjs');

function parseArgs(argv) {
  const a = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--quick') a.quick = true;
    else if (k === '--allow-skip') a.allowSkip = true;
    else if (k === '--out') a.out = v();
    else if (k === '--reps') a.reps = Number(v());
    else if (k === '--systems') a.systems = v().split(',');
    else if (k === '--workloads') a.workloads = v().split(',');
    else if (k === '--warmup') a.warmupMs = Number(v());
    else if (k === '--window') a.windowMs = Number(v());
    else if (k === '--samples') a.samples = Number(v());
    else if (k === '--gap-us') a.gapUs = Number(v());
    else if (k === '--latency-chunks') a.latencyChunks = Number(v());
    else if (k === '--ns') a.ns = v().split(',').map(Number);
    else if (k === '--paced-reps') a.pacedReps = Number(v());
    else if (k === '--paced-window') a.pacedWindowMs = Number(v());
    else if (k === '--paced-rates') a.pacedRates = v().split(',').map(Number);
    else if (k === '--paced-ns') a.pacedNs = v().split(',').map(Number);
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
// RLIMIT_NOFILE is 20 000 here and cannot be raised: 9 950 pairs (19 900 fds) is as close to 10 000
// registered fds as fits next to the runtime's own descriptors.
// Paced (CPU per event at a fixed rate): every rate on every fd count, fewer repetitions (a cell
// lasts its whole window whatever the system). The warm-up covers the pacer's fast start (4 000
// events at 20 000/s, 200 ms: the JIT) and then 300 ms at the paced rate.
const PACED = { pacedRates: [10000, 1000], pacedNs: [1, 100] };
const cfg = args.quick
  ? { reps: 2, warmupMs: 20, windowMs: 60, ns: [1, 100], regNs: [100], samples: 100, latencyChunks: 1, gapUs: 500,
      ...PACED, pacedReps: 1, pacedWarmupMs: 250, pacedWindowMs: 150 }
  : { reps: 4, warmupMs: 150, windowMs: 350, ns: [1, 100, 1000, 9950], regNs: [1000, 9950], samples: 2000, latencyChunks: 4, gapUs: 1000,
      ...PACED, pacedReps: 3, pacedWarmupMs: 500, pacedWindowMs: 1200 };
for (const k of ['reps', 'warmupMs', 'windowMs', 'samples', 'gapUs', 'ns', 'latencyChunks', 'pacedReps', 'pacedWindowMs', 'pacedRates', 'pacedNs']) if (args[k] !== undefined) cfg[k] = args[k];
const outDir = resolve(args.out ?? (args.quick ? join(pkgRoot, 'build', 'quick') : join(repoRoot, 'docs', 'benchmarks')));
const workloads = args.workloads ?? [...THROUGHPUT_WORKLOADS, 'latency', 'registration', 'paced'];
let systems = SYSTEMS.filter((s) => (args.systems ? args.systems.includes(s.id) : !s.onlyWhenNamed));

function runOne(system, workload, n, extra = {}) {
  const s = byId[system];
  const timeoutMs = 120000;
  let cmd;
  let argv;
  if (s.kind === 'c') {
    cmd = ANCHOR;
    const o = { warmupMs: cfg.warmupMs, windowMs: cfg.windowMs, samples: cfg.samples, gapUs: cfg.gapUs, ...extra };
    argv = [s.arg, workload, String(n), String(o.warmupMs), String(o.windowMs)];
    argv.push(...(workload === 'paced' ? [String(o.rate)] : [String(o.samples), String(o.gapUs)]));
  } else {
    cmd = process.execPath;
    argv = ['--expose-gc', CHILD, JSON.stringify({ system, workload, n, warmupMs: cfg.warmupMs, windowMs: cfg.windowMs, samples: cfg.samples, gapUs: cfg.gapUs, ...extra })];
  }
  return new Promise((resolvePromise) => {
    const t0 = Date.now();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const base = { system, workload, n, wallMs: Date.now() - t0 };
      const line = out.trim().split('\n').pop();
      try {
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        resolvePromise({ ...base, ...JSON.parse(line) });
      } catch (e) {
        resolvePromise({ ...base, error: `${e.message}; stderr: ${err.trim().slice(-400)}` });
      }
    });
  });
}

async function calibrate() {
  const ms = args.quick ? 100 : 600;
  const c = JSON.parse(execFileSync(ANCHOR, ['calibrate', String(ms)], { encoding: 'utf8' }));
  // The same 1-byte write + read from JS: fs.writeSync/fs.readSync and the bench helper's write1/read1.
  const js = await runOne('net', 'calibrate-js', 1, { windowMs: ms });
  return { ...c, fsWriteReadNs: js.fsWriteReadNs, helperWriteReadNs: js.helperWriteReadNs };
}

function machine() {
  const cpus = os.cpus();
  let kernel = os.release();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${kernel}`,
    node: process.version,
    napi: process.versions.napi,
  };
}

// The socketpoll addons the Node rows load: if one is rebuilt during the run (another build on the
// machine), the report says so — rows before and after may differ, and a process that had the file
// mapped while it was rewritten in place dies with SIGBUS.
function addonFingerprints() {
  const out = {};
  for (const pkg of ['epoll-linux-x64', 'poll-fallback']) {
    const f = join(repoRoot, 'packages', pkg, 'socketpoll.node');
    try {
      const st = fs.statSync(f);
      out[pkg] = `${st.size} bytes, modified ${st.mtime.toISOString()}`;
    } catch {
      out[pkg] = null;
    }
  }
  return out;
}

function rotate(list, k) {
  const r = k % list.length;
  return [...list.slice(r), ...list.slice(0, r)];
}

async function main() {
  const startedAt = new Date();
  const t0 = Date.now();
  const meta = {
    startedAt: startedAt.toISOString(),
    command: args.quick ? 'pnpm --filter @socketpoll/bench run bench:quick' : 'pnpm bench',
    quick: args.quick,
    config: cfg,
    machine: machine(),
    loadAvgStart: os.loadavg(),
    addonsStart: addonFingerprints(),
    calibrationStart: await calibrate(),
  };
  let rev = null;
  try {
    rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {}
  meta.gitRevision = rev;

  // Probe each system once: a system that cannot run here (core not built, backend missing) is
  // dropped with the reason, instead of failing every cell.
  const skipped = {};
  for (const s of systems) {
    const r = s.pacedOnly
      ? await runOne(s.id, 'paced', 1, { warmupMs: 0, windowMs: 5, rate: 1000 })
      : await runOne(s.id, 'oneway', 1, { warmupMs: 0, windowMs: 5 });
    if (r.skipped || r.error) {
      skipped[s.id] = (r.skipped ?? r.error).split('. ')[0];
      console.log(`bench: skipping ${s.id}: ${skipped[s.id]}`);
    }
  }
  systems = systems.filter((s) => !skipped[s.id]);
  const ids = systems.filter((s) => !s.pacedOnly).map((s) => s.id);
  const pacedIds = systems.filter((s) => s.paced).map((s) => s.id);
  const pacedExtra = (rate) => ({ rate, warmupMs: cfg.pacedWarmupMs, windowMs: cfg.pacedWindowMs });

  const cells = [];
  for (const w of workloads) {
    if (THROUGHPUT_WORKLOADS.includes(w)) for (const n of cfg.ns) cells.push({ w, n, sys: ids });
    // Latency is the most load-sensitive number: each repetition's samples are taken in chunks, the
    // systems interleaved chunk by chunk, so that every system sees the same minutes of the machine.
    else if (w === 'latency') for (let c = 0; c < cfg.latencyChunks; c++) cells.push({ w, n: 1, sys: ids, chunk: c });
    else if (w === 'registration') {
      for (const n of cfg.regNs) cells.push({ w, n, sys: ids.filter((id) => byId[id].registration) });
    } else if (w === 'paced') {
      for (const rate of cfg.pacedRates) for (const n of cfg.pacedNs) cells.push({ w, n, sys: pacedIds, extra: pacedExtra(rate), reps: cfg.pacedReps });
    }
  }
  const repsOf = (c) => Math.min(c.reps ?? cfg.reps, cfg.reps);
  const total = cells.reduce((a, c) => a + c.sys.length * repsOf(c), 0);
  console.log(`bench: ${systems.length} systems, ${cells.length} cells, ${cfg.reps} repetitions (${total} runs) -> ${outDir}`);

  const runs = [];
  let done = 0;
  let failures = 0;
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const c of cells) {
      if (rep >= repsOf(c)) continue;
      // Interleaved: every system once per cell per repetition; the order rotates per repetition so
      // no system always runs first (or right after the same neighbour).
      for (const id of rotate(c.sys, rep)) {
        const loadAvg1 = os.loadavg()[0];
        const r = await runOne(id, c.w, c.n, c.w === 'latency' ? { samples: Math.ceil(cfg.samples / cfg.latencyChunks) } : c.extra ?? {});
        r.rep = rep;
        if (c.chunk !== undefined) r.chunk = c.chunk;
        r.loadAvg1 = loadAvg1;
        runs.push(r);
        done++;
        if (r.error) {
          failures++;
          console.log(`bench: FAILED ${id} ${c.w} N=${c.n}: ${r.error}`);
        }
      }
      if (process.stdout.isTTY) process.stdout.write(`\rbench: ${done}/${total} runs, ${((Date.now() - t0) / 1000).toFixed(0)} s `);
    }
    const line = `bench: repetition ${rep + 1}/${cfg.reps} done (${done}/${total} runs, ${((Date.now() - t0) / 1000).toFixed(0)} s, load ${os.loadavg()[0].toFixed(2)})`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}\n` : `${line}\n`);
  }
  meta.calibrationEnd = await calibrate();
  meta.loadAvgEnd = os.loadavg();
  meta.addonsEnd = addonFingerprints();
  meta.wallSeconds = (Date.now() - t0) / 1000;
  meta.skipped = skipped;
  meta.systems = ids;
  meta.pacedSystems = pacedIds;

  fs.mkdirSync(outDir, { recursive: true });
  const results = { meta, runs };
  fs.writeFileSync(join(outDir, 'results.json'), JSON.stringify(results) + '\n');
  writeReport(results, outDir);
  console.log(`bench: wrote ${join(outDir, 'results.json')} and ${join(outDir, 'README.md')} in ${meta.wallSeconds.toFixed(0)} s`);
  if (failures) {
    console.error(`bench: ${failures} run(s) failed`);
    process.exitCode = 1;
  }
  // The smoke test: every system that could run produced a number in every cell.
  if (args.quick && Object.keys(skipped).length && !args.allowSkip) {
    console.error(`bench: ${Object.keys(skipped).length} system(s) could not run (see above); --allow-skip accepts that`);
    process.exitCode = 1;
  }
  if (args.quick) {
    const empty = runs.filter((r) => !r.error && !r.skipped && !(r.eventsPerSec > 0 || r.p50 > 0 || r.opsPerSec > 0 || r.rssPerFd !== undefined));
    if (empty.length) {
      console.error(`bench: ${empty.length} run(s) produced no measurement`);
      process.exitCode = 1;
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
