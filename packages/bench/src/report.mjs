// report.mjs — turns results.json into README.md + SVG charts (same folder). Also a CLI:
//   node src/report.mjs docs/benchmarks/results.json      regenerate the report from raw results
// A hand-written analysis.md next to the results (if present) is included as the closing note.
import fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LATENCY_QUANTILES, fmtNum, latencyChart, lineChart } from './svg.mjs';
import { REFERENCE, THROUGHPUT_WORKLOADS, WORKLOAD_TEXT, byId } from './systems.mjs';

export function stats(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], count: v.length };
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** All derived numbers, from the raw runs. */
export function summarize({ meta, runs }) {
  const ok = runs.filter((r) => !r.error && !r.skipped);
  const find = (system, workload, n, rep) => ok.find((r) => r.system === system && r.workload === workload && r.n === n && r.rep === rep);
  const systems = meta.systems;
  const reps = [...new Set(ok.map((r) => r.rep))];

  const throughput = {};
  for (const w of THROUGHPUT_WORKLOADS) {
    const ns = [...new Set(ok.filter((r) => r.workload === w).map((r) => r.n))].sort((a, b) => a - b);
    if (!ns.length) continue;
    throughput[w] = { ns, rows: {} };
    for (const s of systems) {
      const row = {};
      for (const n of ns) {
        const mine = ok.filter((r) => r.system === s && r.workload === w && r.n === n);
        if (!mine.length) continue;
        // Ratio per repetition against the reference run of the same repetition (same moment, same load).
        const ratios = mine.map((r) => {
          const ref = find(REFERENCE, w, n, r.rep);
          return ref ? r.eventsPerSec / ref.eventsPerSec : NaN;
        });
        row[n] = { eps: stats(mine.map((r) => r.eventsPerSec)), ratio: stats(ratios) };
      }
      throughput[w].rows[s] = row;
    }
  }

  // Pairwise ratio of two systems, per repetition.
  const pair = (a, b, w, n) =>
    stats(reps.map((rep) => {
      const x = find(a, w, n, rep);
      const y = find(b, w, n, rep);
      return x && y ? x.eventsPerSec / y.eventsPerSec : NaN;
    }));

  const latency = {};
  for (const s of systems) {
    const mine = ok.filter((r) => r.system === s && r.workload === 'latency' && r.latencyNs?.length);
    if (!mine.length) continue;
    // A repetition's samples may come in several chunks (runs): percentiles per repetition.
    const per = [...new Set(mine.map((r) => r.rep))].map((rep) => {
      const v = mine.filter((r) => r.rep === rep).flatMap((r) => r.latencyNs).sort((a, b) => a - b);
      return { rep, p50: quantile(v, 0.5), p90: quantile(v, 0.9), p99: quantile(v, 0.99) };
    });
    const pooled = mine.flatMap((r) => r.latencyNs).sort((a, b) => a - b);
    latency[s] = {
      samples: pooled.length,
      p50: stats(per.map((p) => p.p50)),
      p90: stats(per.map((p) => p.p90)),
      p99: stats(per.map((p) => p.p99)),
      pooled: LATENCY_QUANTILES.map((q) => quantile(pooled, q)),
      per,
    };
  }
  const latRatio = (a, b, key) =>
    stats(reps.map((rep) => {
      const x = latency[a]?.per.find((p) => p.rep === rep);
      const y = latency[b]?.per.find((p) => p.rep === rep);
      return x && y ? x[key] / y[key] : NaN;
    }));

  const registration = {};
  for (const r of ok.filter((x) => x.workload === 'registration')) {
    ((registration[r.n] ??= {})[r.system] ??= []).push(r);
  }
  for (const n of Object.keys(registration)) {
    for (const s of Object.keys(registration[n])) {
      const rs = registration[n][s];
      registration[n][s] = {
        ops: stats(rs.map((r) => r.opsPerSec ?? NaN)),
        rssPerFd: stats(rs.map((r) => r.rssPerFd)),
        slabPerFd: stats(rs.map((r) => r.slabPerFd ?? NaN)),
      };
    }
  }

  // Sparse: per-event cost at the largest N over N = 1, per repetition.
  const sparse = {};
  if (throughput.sparse) {
    const ns = throughput.sparse.ns;
    const lo = ns[0];
    const hi = ns[ns.length - 1];
    for (const s of systems) {
      sparse[s] = stats(reps.map((rep) => {
        const a = find(s, 'sparse', lo, rep);
        const b = find(s, 'sparse', hi, rep);
        return a && b ? a.eventsPerSec / b.eventsPerSec : NaN;
      }));
    }
    sparse.lo = lo;
    sparse.hi = hi;
  }

  // Paced: CPU per event per (rate, fds) cell; ratio to the reference of the same repetition.
  const paced = { cells: [], rows: {}, systems: meta.pacedSystems ?? [] };
  const pacedRuns = ok.filter((r) => r.workload === 'paced' && r.cpuNsPerEvent > 0);
  const rates = [...new Set(pacedRuns.map((r) => r.rate))].sort((a, b) => b - a);
  const pacedNs = [...new Set(pacedRuns.map((r) => r.n))].sort((a, b) => a - b);
  for (const rate of rates) for (const n of pacedNs) paced.cells.push({ rate, n, key: `${rate}/${n}` });
  const pacedFind = (system, c, rep) => pacedRuns.find((r) => r.system === system && r.rate === c.rate && r.n === c.n && r.rep === rep);
  const pacedPair = (a, b, c) =>
    stats(reps.map((rep) => {
      const x = pacedFind(a, c, rep);
      const y = pacedFind(b, c, rep);
      return x && y ? x.cpuNsPerEvent / y.cpuNsPerEvent : NaN;
    }));
  for (const s of paced.systems) {
    const row = {};
    for (const c of paced.cells) {
      const mine = pacedRuns.filter((r) => r.system === s && r.rate === c.rate && r.n === c.n);
      if (!mine.length) continue;
      row[c.key] = {
        cpu: stats(mine.map((r) => r.cpuNsPerEvent)),
        share: stats(mine.map((r) => r.cpuShare)),
        rate: stats(mine.map((r) => r.eventsPerSec)),
        perBatch: stats(mine.map((r) => r.events / Math.max(r.batches, 1))),
        ratio: pacedPair(s, REFERENCE, c),
      };
    }
    paced.rows[s] = row;
  }
  paced.pair = pacedPair;

  return { throughput, pair, latency, latRatio, registration, sparse, systems, paced };
}

const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const rng = (st, fmt) => (st ? `${fmt(st.median)} [${fmt(st.min)}–${fmt(st.max)}]` : '–');
const us = (ns) => (ns / 1000).toFixed(1);
const label = (id) => byId[id]?.label ?? id;

function targetsOf(sum) {
  const t = [];
  const one = sum.throughput.oneway;
  if (!one) return t;
  const big = one.ns.filter((n) => n >= 100);
  const ratioAt = (s, n) => one.rows[s]?.[n]?.ratio;
  let group = 'current';
  const check = (name, system, list, want, fmtVal) => {
    if (!sum.systems.includes(system) && !sum.paced.rows[system]) {
      t.push({ group, name, measured: `${label(system)} did not run`, met: null });
      return;
    }
    const measured = list.map(({ at, st }) => `${at}: ${st ? fmtVal(st.median) : '–'}`).join(', ');
    const met = list.every(({ st }) => st && want(st.median));
    t.push({ group, name, measured, met });
  };
  const fx = (x) => `${x.toFixed(3)}×`;
  // Every batch size, idle wake-up, CPU per event at a paced rate.
  if (sum.systems.includes('uv-poll'))
    check('start() ≥ 1.0× one uv_poll_t per fd, the naive design (oneway, every N)', 'sp-epoll-start',
      one.ns.map((n) => ({ at: `N=${n}`, st: sum.pair('sp-epoll-start', 'uv-poll', 'oneway', n) })), (x) => x >= 1, fx);
  check('start() + readEach/writeEach ≥ 0.8× raw C epoll (oneway, N ≥ 100)', 'sp-epoll-batch',
    big.map((n) => ({ at: `N=${n}`, st: ratioAt('sp-epoll-batch', n) })), (x) => x >= 0.8, fx);
  if (sum.latency['sp-epoll-start']) {
    check('idle wake-up p50 of start() ≤ 1.5× raw C epoll\'s', 'sp-epoll-start',
      [{ at: 'p50 ratio', st: sum.latRatio('sp-epoll-start', REFERENCE, 'p50') }], (x) => x <= 1.5, fx);
    // The p99 when these goals were set: 60 µs against raw C's 29 µs on a quiet machine.
    check('idle wake-up p99 of start() no worse than before (≤ 2.07× raw C epoll\'s, 60 µs against 29)', 'sp-epoll-start',
      [{ at: 'p99 ratio', st: sum.latRatio('sp-epoll-start', REFERENCE, 'p99') }], (x) => x <= 2.07, fx);
  }
  const pc = sum.paced;
  if (pc.cells.length && pc.rows['sp-epoll-start']) {
    const at = (c) => `${fmtNum(c.rate)}/s on ${c.n} fd${c.n > 1 ? 's' : ''}`;
    check('paced CPU per event of start() ≤ 1.5× raw C epoll (every rate, 1 and 100 fds)', 'sp-epoll-start',
      pc.cells.map((c) => ({ at: at(c), st: pc.rows['sp-epoll-start'][c.key]?.ratio })), (x) => x <= 1.5, fx);
    for (const other of ['net', 'npm-epoll']) {
      if (!pc.rows[other]) continue;
      check(`paced CPU per event of start() below ${label(other)}'s (every cell)`, 'sp-epoll-start',
        pc.cells.map((c) => ({ at: at(c), st: pc.pair('sp-epoll-start', other, c) })), (x) => x < 1, fx);
    }
  }
  if (sum.sparse.hi)
    check(`sparse stays flat: start()'s per-event cost at N=${sum.sparse.hi} within 1.1× of N=${sum.sparse.lo}`, 'sp-epoll-start',
      [{ at: 'cost ratio', st: sum.sparse['sp-epoll-start'] }], (x) => x <= 1.1, fx);
  check('helper-thread delivery ≥ 0.6× raw C epoll (oneway, N ≥ 100)', 'sp-epoll-thread',
    big.map((n) => ({ at: `N=${n}`, st: ratioAt('sp-epoll-thread', n) })), (x) => x >= 0.6, fx);

  group = 'earlier';
  check('event-loop start() on epoll ≥ 0.6× raw C epoll (oneway, N ≥ 100)', 'sp-epoll-start',
    big.map((n) => ({ at: `N=${n}`, st: ratioAt('sp-epoll-start', n) })), (x) => x >= 0.6, fx);
  if (sum.systems.includes('npm-epoll'))
    check('start() ≥ 5× the npm epoll package (oneway, every N)', 'sp-epoll-start',
      one.ns.map((n) => ({ at: `N=${n}`, st: sum.pair('sp-epoll-start', 'npm-epoll', 'oneway', n) })), (x) => x >= 5, fx);
  if (sum.systems.includes('net'))
    check('start() ≥ 1.4× net.Socket (oneway, every N)', 'sp-epoll-start',
      one.ns.map((n) => ({ at: `N=${n}`, st: sum.pair('sp-epoll-start', 'net', 'oneway', n) })), (x) => x >= 1.4, fx);
  check('sync wait() on epoll ≥ 0.6× raw C epoll (oneway, N ≥ 100)', 'sp-epoll-wait',
    big.map((n) => ({ at: `N=${n}`, st: ratioAt('sp-epoll-wait', n) })), (x) => x >= 0.6, fx);
  for (const s of ['sp-epoll-start', 'sp-epoll-wait']) {
    if (!sum.latency[s]) continue;
    check(`idle wake-up p50 of ${label(s)} ≤ 1.25× raw C epoll's`, s,
      [{ at: 'p50 ratio', st: sum.latRatio(s, REFERENCE, 'p50') }], (x) => x <= 1.25, fx);
    if (sum.latency.net)
      check(`idle wake-up p99 of ${label(s)} ≤ net.Socket's`, s,
        [{ at: 'p99 ratio to net.Socket', st: sum.latRatio(s, 'net', 'p99') }], (x) => x <= 1, fx);
  }
  if (sum.sparse.hi)
    check(`sparse on epoll (${label('sp-epoll-wait')}): per-event cost at N=${sum.sparse.hi} within 1.1× of N=${sum.sparse.lo}`, 'sp-epoll-wait',
      [{ at: 'cost ratio', st: sum.sparse['sp-epoll-wait'] }], (x) => x <= 1.1, fx);
  return t;
}

export function writeReport(results, outDir) {
  const { meta } = results;
  const sum = summarize(results);
  const L = [];
  const m = meta.machine;
  L.push('# Benchmarks');
  L.push('');
  L.push(`Generated by \`${meta.command}\` (packages/bench) on ${meta.startedAt.slice(0, 16).replace('T', ' ')} UTC` +
    (meta.gitRevision ? ` at ${meta.gitRevision}` : '') + '. Raw numbers: [results.json](results.json).');
  if (meta.quick) L.push('\n**Quick mode** (smoke test): tiny windows and small N; these numbers mean nothing.');
  L.push('');
  L.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}, Node ${m.node} (Node-API ${m.napi}). ` +
    `Shared with other work: load average ${meta.loadAvgStart.map((x) => x.toFixed(2)).join(' / ')} at the start, ` +
    `${meta.loadAvgEnd.map((x) => x.toFixed(2)).join(' / ')} at the end (1 / 5 / 15 min).`);
  L.push('');
  const c0 = meta.calibrationStart;
  const c1 = meta.calibrationEnd;
  L.push(`Calibration (raw C, start → end of run): a bare syscall (getppid) ${c0.syscallNs.toFixed(0)} → ${c1.syscallNs.toFixed(0)} ns; ` +
    `a 1-byte AF_UNIX write + read ${(c0.unixWriteReadNs / 1000).toFixed(2)} → ${(c1.unixWriteReadNs / 1000).toFixed(2)} µs` +
    (c0.fsWriteReadNs ? `; the same from JS with fs.writeSync + fs.readSync ${(c0.fsWriteReadNs / 1000).toFixed(2)} → ${(c1.fsWriteReadNs / 1000).toFixed(2)} µs, ` +
      `with the bench helper's write1 + read1 ${(c0.helperWriteReadNs / 1000).toFixed(2)} → ${(c1.helperWriteReadNs / 1000).toFixed(2)} µs` : '') + '.');
  L.push('');
  const cfg = meta.config;
  L.push(`Method: each system runs in its own process (clean fds and memory); ${cfg.reps} interleaved repetitions ` +
    `(every system once per cell per repetition, order rotated each repetition); ${cfg.warmupMs} ms warm-up then a ` +
    `${cfg.windowMs} ms window; median with min–max over repetitions. Ratios are taken per repetition against ` +
    `raw C epoll (level) of the same repetition, then the median of those ratios is shown. Wall time ${meta.wallSeconds.toFixed(0)} s. ` +
    'Nothing is pinned. RLIMIT_NOFILE is 20 000 here, so the largest N is 9 950 pairs.');
  L.push('');
  L.push('JS-side I/O: the socketpoll and npm `epoll` rows read with `fs.readSync` and write with `fs.writeSync`, ' +
    'as user code would; the "batched I/O" row reads and writes each batch with @socketpoll/core\'s ' +
    '`SocketPoll.readEach`/`writeEach` (two native calls per batch).');
  L.push('');
  L.push('Rows marked (diagnostic) are not anchors but help explain the gaps: "raw C epoll, nested" is ' +
    'start()\'s kernel structure in C (an epoll fd watched by an outer epoll, then epoll_wait(inner, 0) per wake-up); ' +
    '"uv_poll_t per fd" is libuv watching each fd itself with one JS call per event (same fs I/O as the socketpoll rows): ' +
    'the floor of event-loop delivery in Node.');
  if (meta.addonsStart && JSON.stringify(meta.addonsStart) !== JSON.stringify(meta.addonsEnd)) {
    L.push('');
    L.push(`**Note:** a socketpoll addon was rebuilt during this run (start: ${JSON.stringify(meta.addonsStart)}; end: ${JSON.stringify(meta.addonsEnd)}).`);
  }
  const failed = results.runs.filter((r) => r.error);
  if (failed.length) {
    L.push('');
    L.push(`Failed runs (left out of the statistics): ${failed.map((r) => `${label(r.system)} ${r.workload} N=${r.n} repetition ${r.rep + 1}: ${r.error.split(';')[0]}`).join('; ')}.`);
  }
  if (Object.keys(meta.skipped ?? {}).length) {
    L.push('');
    L.push('Skipped systems: ' + Object.entries(meta.skipped).map(([k, v]) => `${label(k)} (${v})`).join('; ') + '.');
  }

  // Headline.
  const one = sum.throughput.oneway;
  if (one) {
    L.push('');
    L.push('## Headline: oneway, ratio to raw C epoll (level) in the same run');
    L.push('');
    L.push(`| system | ${one.ns.map((n) => `N = ${n}`).join(' | ')} |`);
    L.push(`|---|${one.ns.map(() => '---:').join('|')}|`);
    for (const s of sum.systems) {
      L.push(`| ${label(s)} | ${one.ns.map((n) => (one.rows[s]?.[n] ? `${f2(one.rows[s][n].ratio.median)}×` : '–')).join(' | ')} |`);
    }
  }

  if (one && sum.systems.includes('uv-poll') && sum.systems.includes('sp-epoll-start')) {
    L.push('');
    L.push('## start() against the naive design, per N');
    L.push('');
    L.push('The naive design is one `uv_poll_t` per fd and one JS call per event (the "uv_poll_t per fd" row: ' +
      'the same fs I/O, no nested epoll, no batching). Ratio of events/s in the same repetition, median [min–max]; ' +
      'above 1.00× start() is faster.');
    L.push('');
    const ws = THROUGHPUT_WORKLOADS.filter((w) => sum.throughput[w]);
    L.push(`| workload | system | ${one.ns.map((n) => `N = ${n}`).join(' | ')} |`);
    L.push(`|---|---|${one.ns.map(() => '---:').join('|')}|`);
    for (const w of ws) {
      for (const s of ['sp-epoll-start', 'sp-epoll-batch', 'sp-epoll-thread']) {
        if (!sum.systems.includes(s)) continue;
        L.push(`| ${w} | ${label(s)} | ${one.ns.map((n) => rng(sum.pair(s, 'uv-poll', w, n), (x) => `${f2(x)}×`)).join(' | ')} |`);
      }
    }
  }

  const targets = targetsOf(sum);
  if (targets.length) {
    L.push('');
    L.push('## Targets');
    L.push('');
    L.push('Goals, not tests: each is a median of per-repetition ratios from this run. The first table is the ' +
      'current set (every batch size, idle wake-up, CPU per event at a paced rate, no regression); the second ' +
      'keeps the earlier goals, to show where they stand now.');
    for (const [group, title] of [['current', 'Current goals'], ['earlier', 'Earlier goals']]) {
      const rows = targets.filter((t) => t.group === group);
      if (!rows.length) continue;
      L.push('');
      L.push(`### ${title}`);
      L.push('');
      L.push('| target | measured (median) | |');
      L.push('|---|---|---|');
      for (const t of rows) L.push(`| ${t.name} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'met' : '**missed**'} |`);
    }
  }

  for (const w of THROUGHPUT_WORKLOADS) {
    const tw = sum.throughput[w];
    if (!tw) continue;
    L.push('');
    L.push(`## ${w}`);
    L.push('');
    L.push(`${WORKLOAD_TEXT[w]} An event is one read of ≥ 1 byte and a 1-byte write.`);
    L.push('');
    L.push(`![${w}: events/s against N](${w}.svg)`);
    L.push('');
    L.push(`Events/s, median [min–max]; ratio to raw C epoll (level), median [min–max] of per-repetition ratios.`);
    L.push('');
    L.push(`| system | ${tw.ns.map((n) => `N = ${n}`).join(' | ')} |`);
    L.push(`|---|${tw.ns.map(() => '---').join('|')}|`);
    for (const s of sum.systems) {
      const cells = tw.ns.map((n) => {
        const c = tw.rows[s]?.[n];
        return c ? `${rng(c.eps, fmtNum)}<br>${rng(c.ratio, (x) => `${f2(x)}×`)}` : '–';
      });
      L.push(`| ${label(s)} | ${cells.join(' | ')} |`);
    }
    if (w === 'sparse' && sum.sparse.hi) {
      L.push('');
      L.push(`Per-event cost at N = ${sum.sparse.hi} over N = ${sum.sparse.lo} (1.00 = independent of the number of registered fds):`);
      L.push('');
      L.push('| system | cost ratio, median [min–max] |');
      L.push('|---|---|');
      for (const s of sum.systems) if (sum.sparse[s]) L.push(`| ${label(s)} | ${rng(sum.sparse[s], f2)} |`);
    }
    const svg = lineChart({
      title: `${w}: events/s against N (median, min–max whiskers)`,
      xLabel: w === 'bounce' ? 'N (socketpairs; 2N registered fds)' : 'N (registered fds)',
      yLabel: 'events/s (log)',
      xs: tw.ns,
      series: sum.systems.map((s) => ({
        name: label(s),
        color: byId[s]?.color ?? '#000',
        dash: byId[s]?.dash,
        points: tw.ns.filter((n) => tw.rows[s]?.[n]).map((n) => ({ x: n, y: tw.rows[s][n].eps.median, lo: tw.rows[s][n].eps.min, hi: tw.rows[s][n].eps.max })),
      })),
    });
    fs.writeFileSync(join(outDir, `${w}.svg`), svg);
  }

  const lat = sum.latency;
  if (Object.keys(lat).length) {
    L.push('');
    L.push('## latency');
    L.push('');
    const chunks = meta.config.latencyChunks ?? 1;
    L.push(`${WORKLOAD_TEXT.latency} ${meta.config.samples} samples per repetition (after a warm-up)` +
      (chunks > 1 ? `, taken in ${chunks} runs of ${Math.ceil(meta.config.samples / chunks)} with the systems interleaved run by run` : '') +
      `, ${meta.config.gapUs} µs between samples. ` +
      'Values in µs: median [min–max] over repetitions of each repetition\'s percentile; the chart pools all samples.');
    L.push('');
    L.push('![latency distribution](latency.svg)');
    L.push('');
    L.push('| system | p50 | p90 | p99 | p50 / raw C epoll p50 |');
    L.push('|---|---|---|---|---|');
    for (const s of sum.systems) {
      if (!lat[s]) continue;
      L.push(`| ${label(s)} | ${rng(lat[s].p50, us)} | ${rng(lat[s].p90, us)} | ${rng(lat[s].p99, us)} | ${rng(sum.latRatio(s, REFERENCE, 'p50'), (x) => `${f2(x)}×`)} |`);
    }
    const svg = latencyChart({
      title: 'idle wake-up latency: writer stamp → receiver callback entry',
      series: sum.systems.filter((s) => lat[s]).map((s) => ({ name: label(s), color: byId[s]?.color ?? '#000', dash: byId[s]?.dash, values: lat[s].pooled.map((v) => v / 1000) })),
    });
    fs.writeFileSync(join(outDir, 'latency.svg'), svg);
  }

  const pc = sum.paced;
  if (pc.cells.length) {
    const cellName = (c) => `${fmtNum(c.rate)}/s, ${c.n} fd${c.n > 1 ? 's' : ''}`;
    L.push('');
    L.push('## paced: CPU time per event at a fixed rate');
    L.push('');
    L.push(`${WORKLOAD_TEXT.paced} ${meta.config.pacedReps} interleaved repetitions of ${meta.config.pacedWarmupMs} ms warm-up ` +
      `then a ${meta.config.pacedWindowMs} ms window per cell.`);
    L.push('');
    L.push('CPU µs per event, median [min–max] over repetitions; below it the ratio to raw C epoll (level) in the same repetition (median [min–max]):');
    L.push('');
    L.push(`| system | ${pc.cells.map(cellName).join(' | ')} |`);
    L.push(`|---|${pc.cells.map(() => '---').join('|')}|`);
    const usev = (x) => (x / 1000).toFixed(1);
    for (const s of pc.systems) {
      const row = pc.rows[s];
      if (!row) continue;
      L.push(`| ${label(s)} | ${pc.cells.map((c) => (row[c.key] ? `${rng(row[c.key].cpu, usev)}<br>${rng(row[c.key].ratio, (x) => `${f2(x)}×`)}` : '–')).join(' | ')} |`);
    }
    L.push('');
    L.push('Share of one core the receiver used (CPU time / wall time), and events per delivery (per batch, callback or `data` chunk; 1.00 = every event woke the receiver on its own), medians:');
    L.push('');
    L.push(`| system | ${pc.cells.map(cellName).join(' | ')} |`);
    L.push(`|---|${pc.cells.map(() => '---:').join('|')}|`);
    for (const s of pc.systems) {
      const row = pc.rows[s];
      if (!row) continue;
      L.push(`| ${label(s)} | ${pc.cells.map((c) => (row[c.key] ? `${(100 * row[c.key].share.median).toFixed(1)} %, ${f2(row[c.key].perBatch.median)}` : '–')).join(' | ')} |`);
    }
  }

  const reg = sum.registration;
  if (Object.keys(reg).length) {
    L.push('');
    L.push('## registration');
    L.push('');
    L.push(`${WORKLOAD_TEXT.registration} net.Socket has no add/mod/del: its row shows only the memory a reading socket costs. ` +
      'Slab growth is read from /proc/slabinfo (system-wide, so other processes on the machine add noise); raw C poll keeps its set in user memory.');
    for (const n of Object.keys(reg).map(Number).sort((a, b) => a - b)) {
      L.push('');
      L.push(`N = ${n}:`);
      L.push('');
      L.push('| system | add+mod+del ops/s | RSS per fd (bytes) | kernel slab per fd (bytes) |');
      L.push('|---|---|---|---|');
      for (const s of sum.systems) {
        const r = reg[n][s];
        if (!r) continue;
        L.push(`| ${byId[s]?.regLabel ?? label(s)} | ${r.ops ? rng(r.ops, fmtNum) : '–'} | ${rng(r.rssPerFd, (x) => x.toFixed(0))} | ${rng(r.slabPerFd, (x) => x.toFixed(0))} |`);
      }
    }
  }

  const timers = join(outDir, 'timer-precision.md'); // written by src/timer-precision.mjs
  if (fs.existsSync(timers)) {
    L.push('');
    L.push(fs.readFileSync(timers, 'utf8').trim().replace(/^# /, '## '));
  }

  const dropin = join(outDir, 'epoll-dropin.md'); // written by src/epoll-dropin.mjs
  if (fs.existsSync(dropin)) {
    L.push('');
    L.push(fs.readFileSync(dropin, 'utf8').trim().replace(/^# /, '## '));
  }

  const serial = join(outDir, 'serialport.md'); // written by src/serialport.mjs
  if (fs.existsSync(serial)) {
    L.push('');
    L.push(fs.readFileSync(serial, 'utf8').trim().replace(/^# /, '## ').replace(/^## (?!serialport)/gm, '### '));
  }

  const analysis = join(outDir, 'analysis.md');
  if (fs.existsSync(analysis)) {
    L.push('');
    L.push('## Analysis');
    L.push('');
    L.push(fs.readFileSync(analysis, 'utf8').trim());
  }
  L.push('');
  L.push('## Reproduce');
  L.push('');
  L.push('```sh');
  L.push('pnpm install && pnpm bench            # full run, about 13 minutes, writes docs/benchmarks/');
  L.push('pnpm --filter @socketpoll/bench run bench:quick   # smoke test, about a minute, writes packages/bench/build/quick/');
  L.push('node packages/bench/scripts/compare.mjs oneway 1 uv-poll,sp-epoll-start,sp-epoll-native 9   # a quick side-by-side by CPU per event');
  L.push('node packages/bench/src/report.mjs docs/benchmarks/results.json   # regenerate this page from the raw results');
  L.push('node packages/bench/src/timer-precision.mjs   # the timer-precision rows, about 25 s');
  L.push('node packages/bench/src/epoll-dropin.mjs      # @socketpoll/epoll against the npm epoll package, about a minute');
  L.push('node packages/bench/src/serialport.mjs       # @socketpoll/serialport against @serialport/bindings-cpp over ptys, about 2 minutes');
  L.push('```');
  L.push('');
  fs.writeFileSync(join(outDir, 'README.md'), L.join('\n'));
  return sum;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? 'docs/benchmarks/results.json');
  writeReport(JSON.parse(fs.readFileSync(file, 'utf8')), dirname(file));
  console.log(`report: wrote ${join(dirname(file), 'README.md')}`);
}
