#!/usr/bin/env node
// The socketpoll demo: two "sensors" (child processes) write readings into two FIFOs at their
// own pace; one poller watches both read ends on Node's event loop, a worker thread wakes a
// blocking wait, and hang-ups are handled as a device going away. Real kernel fds throughout.
//
//   pnpm start                          # the best backend for this machine (epoll on Linux)
//   SOCKETPOLL_BACKEND=poll pnpm start  # the poll() fallback
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { SocketPoll, POLL_READ, POLL_HANGUP, POLL_ERROR } = require('@socketpoll/core');

const flagNames = (events) =>
  [[POLL_READ, 'READ'], [POLL_HANGUP, 'HANGUP'], [POLL_ERROR, 'ERROR']]
    .filter(([bit]) => events & bit)
    .map(([, name]) => name)
    .join('|');

function makeFifo(dir, name) {
  const file = path.join(dir, name);
  const r = spawnSync('mkfifo', [file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file} failed: ${r.stderr}`);
  // Non-blocking read end: the poller tells us when to read.
  return { name, file, fd: fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK) };
}

function startSensor(fifo, count, everyMs) {
  const script = `
    const fs = require('node:fs');
    const fd = fs.openSync(${JSON.stringify(fifo.file)}, 'w');
    let n = 0;
    const t = setInterval(() => {
      fs.writeSync(fd, '${fifo.name} reading ' + (++n) + ' = ' + (20 + Math.random() * 5).toFixed(2) + '\\n');
      if (n === ${count}) { clearInterval(t); fs.closeSync(fd); }
    }, ${everyMs});`;
  return spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
}

async function main() {
  const poll = new SocketPoll({ maxEvents: 64 });
  console.log(`socketpoll demo: backend "${poll.backendName}" (modes: ${poll.supportedModes.join(', ')})`);

  // 1. A blocking wait() woken from another thread.
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { wakeup } = require(workerData.core);
     setTimeout(() => wakeup(workerData.handle), 50);`,
    { eval: true, workerData: { core: require.resolve('@socketpoll/core'), handle: poll.wakeupHandle } },
  );
  const t0 = process.hrtime.bigint();
  const woken = poll.wait(5000);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`wait(5000) returned ${JSON.stringify(woken)} after ${ms.toFixed(1)} ms: woken by a worker thread`);
  await worker.terminate();

  // 2. Two FIFOs fed by two processes, delivered in batches on the event loop.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-demo-'));
  const fifos = [makeFifo(dir, 'sensor-a'), makeFifo(dir, 'sensor-b')];
  for (const fifo of fifos) poll.add(fifo.fd, POLL_READ, fifo);
  const children = [startSensor(fifos[0], 5, 60), startSensor(fifos[1], 3, 110)];

  let readings = 0;
  let batches = 0;
  const buf = Buffer.alloc(4096);
  await new Promise((resolve) => {
    poll.start((events) => {
      batches++;
      for (const { fd, events: ready, data: fifo } of events) {
        if (!(ready & POLL_READ)) continue; // a writer's close comes as POLL_HANGUP with POLL_READ
        let text = '';
        for (;;) {
          let n;
          try {
            n = fs.readSync(fd, buf, 0, buf.length, null);
          } catch (err) {
            if (err.code === 'EAGAIN') break;
            throw err;
          }
          if (n === 0) break;
          text += buf.toString('utf8', 0, n);
        }
        const lines = text.split('\n').filter(Boolean);
        readings += lines.length;
        console.log(`[${poll.backendName}] batch ${batches}: fd ${fd} (${fifo.name}) ${flagNames(ready)}` +
          (lines.length ? ` -> ${lines.join('; ')}` : ''));
        if (ready & POLL_HANGUP && lines.length === 0) {
          console.log(`[${poll.backendName}] ${fifo.name}: writer gone, unregistering fd ${fd}`);
          poll.del(fd);
          fs.closeSync(fd);
          if (poll.size === 0) resolve();
        }
      }
    });
  });
  poll.close();
  await Promise.all(children.map((c) => (c.exitCode !== null ? 0 : new Promise((r) => c.on('exit', r)))));
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`done: ${readings} readings from 2 FIFOs in ${batches} batches on ${poll.backendName}; poller closed`);
  if (readings !== 8) {
    console.error(`expected 8 readings, got ${readings}`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
