#!/usr/bin/env node
'use strict';
// Soak: many registered socketpairs and a long stream of events through start(), on one backend.
// The peers are written in random batches (writeEach), the callback drains what is ready
// (readEach) and, now and then, deletes and re-adds a few fds (registration churn). RSS is sampled
// and /proc/self/fd counted; the run fails when RSS grows after the warm-up by more than the
// allowance, when an fd is left open after close(), or when an event is lost or invented (every
// byte written is read back through an event of its own fd, with that fd's data).
//
//   node scripts/soak.js --backend epoll|poll|kqueue --pairs 9950 --events 10000000
// (kqueue: the kqueue backend on the test-only emulation, from packages/native/gyp/build/Release.)
// Prints one JSON line with the figures. Needs `pnpm build` first.
const fs = require('node:fs');
const path = require('node:path');
const { SocketPoll, POLL_READ } = require('../dist');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, arg, i, all) => (arg.startsWith('--') ? [...acc, [arg.slice(2), all[i + 1]]] : acc), []),
);
const backend = args.backend ?? 'epoll';
const pairs = Number(args.pairs ?? 1000);
const target = Number(args.events ?? 200000);
const rssAllowanceMb = Number(args['rss-mb'] ?? 16);
const seed = Number(args.seed ?? Date.now() % 0x7fffffff);

const release = path.resolve(__dirname, '../../native/gyp/build/Release');
const helper = require(path.join(release, 'fd_helper.node'));
const options =
  backend === 'kqueue' ? { addonPath: path.join(release, 'socketpoll_kqueue_emulated.node') } : { backend };

let state = seed >>> 0 || 1;
function random(n) {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}

const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const rssMb = () => process.memoryUsage().rss / (1 << 20);

const fdsBefore = fdCount();
const poll = new SocketPoll({ ...options, maxEvents: 1024 });
const ends = [];
const peers = [];
const expected = new Map(); // registered fd -> bytes written, not yet read
for (let i = 0; i < pairs; i++) {
  const pair = helper.socketpair(0);
  if (typeof pair === 'number') throw new Error(`socketpair failed: errno ${-pair} after ${i} pairs`);
  ends.push(pair[0]);
  peers.push(pair[1]);
  poll.add(pair[0], POLL_READ, i);
  expected.set(pair[0], 0);
}

const burst = Math.min(256, pairs);
const writeFds = new Int32Array(burst);
const writeIndex = new Int32Array(burst);
const lengths = new Int32Array(burst).fill(1);
const payload = Buffer.alloc(burst, 'x');
const readBuf = Buffer.alloc(1024 * 64);
let events = 0;
let bytesRead = 0;
let bytesWritten = 0;
let churn = 0;
const samples = [];
let nextSample = target / 20;

function writeBurst() {
  for (let i = 0; i < burst; i++) {
    writeIndex[i] = random(pairs);
    writeFds[i] = peers[writeIndex[i]];
  }
  const written = poll.writeEach(writeFds, payload, 1, lengths);
  for (let i = 0; i < burst; i++) {
    if (written[i] !== 1) throw new Error(`write to fd ${writeFds[i]} returned ${written[i]}`);
    const end = ends[writeIndex[i]];
    expected.set(end, expected.get(end) + 1);
  }
  bytesWritten += burst;
}

const done = new Promise((resolve, reject) => {
  poll.start((batch) => {
    try {
      const fds = batch.map((ev) => ev.fd);
      const got = poll.readEach(fds, readBuf, 64);
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i];
        if (ends[ev.data] !== ev.fd) throw new Error(`fd ${ev.fd} came with the data of fd ${ends[ev.data]}`);
        if (got[i] <= 0) throw new Error(`fd ${ev.fd} was reported readable, read() returned ${got[i]}`);
        expected.set(ev.fd, expected.get(ev.fd) - got[i]);
        bytesRead += got[i];
      }
      events += batch.length;
      if (random(64) === 0) {
        const i = random(pairs);
        poll.del(ends[i]);
        poll.add(ends[i], POLL_READ, i);
        churn++;
      }
      if (events >= nextSample) {
        samples.push({ events, rssMb: Number(rssMb().toFixed(1)), fds: fdCount() });
        nextSample += target / 20;
      }
      if (events >= target) {
        poll.stop();
        resolve();
      } else {
        writeBurst();
      }
    } catch (err) {
      poll.stop();
      reject(err);
    }
  });
});

const t0 = Date.now();
writeBurst();
done
  .then(() => {
    // What was written and not yet read is still waiting: drain it, then every count must be 0.
    for (const [fd, n] of expected) {
      if (n > 0) {
        const left = helper.drain(fd);
        expected.set(fd, n - left);
        bytesRead += left;
      }
    }
    const wrong = [...expected].filter(([, n]) => n !== 0);
    poll.close();
    for (const fd of [...ends, ...peers]) helper.close(fd);
    const fdsAfter = fdCount();
    const warm = samples[Math.min(2, samples.length - 1)];
    const last = samples[samples.length - 1];
    const result = {
      backend: poll.backendName,
      pairs,
      events,
      seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
      bytesWritten,
      bytesRead,
      churn,
      rssWarmMb: warm.rssMb,
      rssEndMb: last.rssMb,
      fdsBefore,
      fdsWhileRunning: last.fds,
      fdsAfter,
      seed,
      samples,
    };
    console.log(JSON.stringify(result));
    const problems = [];
    if (wrong.length > 0) problems.push(`${wrong.length} fds lost or gained bytes (first: fd ${wrong[0][0]}: ${wrong[0][1]})`);
    if (last.rssMb - warm.rssMb > rssAllowanceMb) problems.push(`RSS grew ${(last.rssMb - warm.rssMb).toFixed(1)} MB after warm-up`);
    if (fdsAfter !== fdsBefore) problems.push(`${fdsAfter - fdsBefore} fds left open`);
    if (new Set(samples.map((s) => s.fds)).size !== 1) problems.push('the fd count moved while running');
    if (problems.length > 0) {
      console.error(`soak on ${backend} failed (seed ${seed}): ${problems.join('; ')}`);
      process.exit(1);
    }
  })
  .catch((err) => {
    console.error(`soak on ${backend} failed (seed ${seed}): ${err.stack}`);
    process.exit(1);
  });
