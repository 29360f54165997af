#!/usr/bin/env node
'use strict';
// handoff-latency.js — what the poll backend's thread hand-off costs, workspace only (needs
// `pnpm build`): node packages/bench/scripts/handoff-latency.js
//
// Hand-off latency: a worker thread writes one byte to a socketpair every ~1 ms and stamps the time
// (process.hrtime, CLOCK_MONOTONIC) in shared memory; the main thread's start() callback reads the
// byte and records now - stamp. Backends interleaved in rounds; medians per backend.
const { Worker, isMainThread, workerData } = require('node:worker_threads');
const path = require('node:path');
const helper = require(path.resolve(__dirname, '../../native/gyp/build/Release/fd_helper.node'));
if (!isMainThread) {
  const { fd, stamps, count } = workerData;
  const ts = new BigInt64Array(stamps);
  const flag = new Int32Array(stamps, 8, 2);
    for (let i = 0; i < count; i++) {
    Atomics.wait(flag, 0, 0, 2); // ~1-2 ms gap, not spinning the shared CPU
    ts[0] = process.hrtime.bigint();
    helper.write(fd, 'x');
  }
  return;
}
const { SocketPoll, POLL_READ } = require(path.resolve(__dirname, '../../core/dist/index.js'));
async function once(backend, count) {
  const [a, b] = helper.socketpair(0);
  const stamps = new SharedArrayBuffer(16);
  const ts = new BigInt64Array(stamps);
  const poll = new SocketPoll({ backend });
  poll.add(a, POLL_READ);
  const lat = [];
  await new Promise((resolve) => {
    poll.start((events) => {
      const now = process.hrtime.bigint();
      for (const ev of events) {
        const n = helper.drain(ev.fd);
        if (n === 1) lat.push(Number(now - ts[0]) / 1000);
        if (lat.length >= count) resolve();
      }
    });
    const w = new Worker(__filename, { workerData: { fd: b, stamps, count: count + 20 } });
    w.on('exit', () => resolve());
  });
  poll.close();
  helper.close(a); helper.close(b);
  return lat;
}
const median = (x) => { const s = [...x].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]; };
const p90 = (x) => { const s = [...x].sort((p, q) => p - q); return s[Math.floor(s.length * 0.9)]; };
(async () => {
  const res = { epoll: [], poll: [] };
  for (let round = 0; round < 6; round++) {
    for (const backend of ['epoll', 'poll']) {
      const lat = await once(backend, 300);
      res[backend].push({ median: median(lat), p90: p90(lat), n: lat.length });
    }
  }
  for (const [k, v] of Object.entries(res)) {
    console.log(k, 'round medians (us):', v.map((r) => r.median.toFixed(1)).join(' '), '| p90s:', v.map((r) => r.p90.toFixed(1)).join(' '));
  }
  const ratios = res.poll.map((r, i) => r.median / res.epoll[i].median);
  console.log('poll/epoll median ratio per round:', ratios.map((r) => r.toFixed(2)).join(' '), '| median ratio', median(ratios).toFixed(2));
  console.log('median of medians: epoll', median(res.epoll.map((r) => r.median)).toFixed(1), 'us; poll', median(res.poll.map((r) => r.median)).toFixed(1), 'us');
})();
