'use strict';
// The runtime-neutral conformance suite: plain CommonJS that Node, Bun and Deno run as they are
// (jest runs on Node only). One process tests one backend on one delivery path:
//   node run.cjs --backend epoll
//   SOCKETPOLL_DELIVERY=thread node run.cjs --addon packages/native/gyp/build/Release/socketpoll_kqueue_emulated.node
//   bun run.cjs --backend poll          deno run -A run.cjs --backend epoll
// See harness.cjs for every option. Prints one line per test and `N passed, N failed`.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness.cjs');
const { core, test, check, equal, throwsCode, fifo, write, read, close, sleep } = h;
const { SocketPoll, POLL_READ, POLL_WRITE, POLL_HANGUP, wakeup, currentRuntime } = core;

let workerThreads;
try {
  workerThreads = require('node:worker_threads');
} catch {
  workerThreads = undefined;
}
const noWorkers = workerThreads && typeof workerThreads.Worker === 'function' ? undefined : 'this runtime has no worker_threads';
const runtime = currentRuntime();
const probe = new SocketPoll(h.pollOptions);
const backend = probe.backendName;
const delivery = probe.delivery;
const modes = probe.supportedModes;
const loadedFrom = probe.wakeupHandle.addonPath;
probe.close();

function poller(options = {}) {
  return new SocketPoll({ ...h.pollOptions, ...options });
}

/** Resolves with the first start() batch, or rejects after `ms`. */
function nextBatch(poll, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no batch within ${ms} ms`)), ms);
    poll.start((events) => {
      clearTimeout(timer);
      poll.stop();
      resolve(events);
    });
  });
}

const simple = (events) => events.map((e) => ({ fd: e.fd, events: e.events, data: e.data }));

test('the backend loads and names its delivery path', () => {
  check(['epoll', 'kqueue', 'poll'].includes(backend), `backend ${backend}`);
  const expected = process.env.SOCKETPOLL_DELIVERY ||
    (runtime.name === 'node' && backend !== 'poll' ? 'uvpoll' : 'thread');
  equal(delivery, backend === 'poll' ? 'thread' : expected, 'delivery');
});

test(
  'the default backend on Linux x64 (glibc) is the epoll prebuilt',
  () => {
    const poll = new SocketPoll();
    equal({ backend: poll.backendName, pkg: core.platformPackage()?.packageName }, { backend: 'epoll', pkg: '@socketpoll/epoll-linux-x64' }, 'default');
    poll.close();
  },
  process.platform === 'linux' && process.arch === 'x64' && !process.env.SOCKETPOLL_BACKEND ? undefined : 'not Linux x64, or SOCKETPOLL_BACKEND is set',
);

test('SOCKETPOLL_DELIVERY: thread is honoured, a bad value and uvpoll without a working libuv are refused', async () => {
  const saved = process.env.SOCKETPOLL_DELIVERY;
  const withDelivery = (value, fn) => {
    process.env.SOCKETPOLL_DELIVERY = value;
    try {
      return fn();
    } finally {
      if (saved === undefined) delete process.env.SOCKETPOLL_DELIVERY;
      else process.env.SOCKETPOLL_DELIVERY = saved;
    }
  };
  withDelivery('thread', () => {
    const poll = poller();
    equal(poll.delivery, 'thread', 'forced thread');
    poll.close();
  });
  await throwsCode(() => withDelivery('libuv', () => poller()), 'ERR_INVALID_ARG_VALUE', 'an unknown path');
  if (runtime.name === 'bun') {
    await throwsCode(() => withDelivery('uvpoll', () => poller()), 'ERR_INVALID_ARG_VALUE', 'uvpoll on Bun');
  } else {
    withDelivery('uvpoll', () => {
      const poll = poller(); // not started: Deno's uv_poll would fire once only
      equal(poll.delivery, backend === 'poll' ? 'thread' : 'uvpoll', 'forced uvpoll');
      poll.close();
    });
  }
});

test('readiness: a readable FIFO is reported with its data, an idle one is not', () => {
  const poll = poller();
  const [r, w] = fifo();
  poll.add(r, POLL_READ, 'fifo');
  equal(poll.wait(0), [], 'idle wait(0)');
  write(w, 'hello');
  equal(simple(poll.wait(1000)), [{ fd: r, events: POLL_READ, data: 'fifo' }], 'after a write');
  equal(read(r), 'hello', 'data read back');
  equal(poll.wait(0), [], 'after draining');
  poll.close();
});

test('readiness: a FIFO write end is writable; its reader closing is a hangup', () => {
  const poll = poller();
  const [r, w] = fifo();
  poll.add(w, POLL_WRITE, 'w');
  equal(simple(poll.wait(1000)), [{ fd: w, events: POLL_WRITE, data: 'w' }], 'writable');
  poll.del(w);
  poll.add(r, POLL_READ, 'r');
  close(w);
  const events = poll.wait(1000);
  equal(events.length, 1, 'one event');
  check((events[0].events & POLL_HANGUP) !== 0, `hangup in ${events[0].events}`);
  poll.close();
});

test('data round-trip: any value comes back by identity; mod() replaces it', () => {
  const poll = poller();
  const [r, w] = fifo();
  const first = { name: 'first' };
  const second = ['second'];
  poll.add(r, POLL_READ, first);
  write(w);
  check(poll.wait(1000)[0].data === first, 'the same object');
  poll.mod(r, POLL_READ, second);
  check(poll.wait(1000)[0].data === second, 'the new data after mod()');
  poll.close();
});

test('modes: level repeats until drained, oneshot fires once until mod() re-arms it', () => {
  const poll = poller();
  const [r, w] = fifo();
  poll.add(r, POLL_READ, 'level');
  write(w);
  equal(poll.wait(500).length, 1, 'level, first');
  equal(poll.wait(500).length, 1, 'level, again without draining');
  poll.mod(r, POLL_READ, 'once', { mode: 'oneshot' });
  equal(poll.wait(500).length, 1, 'oneshot, first');
  equal(poll.wait(50).length, 0, 'oneshot, disarmed');
  poll.mod(r, POLL_READ, 'once', { mode: 'oneshot' });
  equal(poll.wait(500).length, 1, 'oneshot, re-armed');
  poll.close();
});

test(
  'modes: edge fires once per new arrival',
  () => {
    const poll = poller();
    const [r, w] = fifo();
    poll.add(r, POLL_READ, 'edge', { mode: 'edge' });
    write(w);
    equal(poll.wait(500).length, 1, 'first arrival');
    equal(poll.wait(50).length, 0, 'no new arrival');
    write(w);
    equal(poll.wait(500).length, 1, 'second arrival');
    poll.close();
  },
  modes.includes('edge') ? undefined : `${backend} has no edge mode`,
);

test('wakeup: wait(-1) returns [] for a wakeup asked for before it', () => {
  const poll = poller();
  const [r] = fifo();
  poll.add(r, POLL_READ);
  poll.wakeup();
  equal(poll.wait(-1), [], 'woken wait');
  poll.close();
});

test(
  'wakeup: a worker wakes the main thread blocked in wait(-1)',
  async () => {
    const poll = poller();
    // Timed from before the worker is made: a runtime may start it (and run its timer) before the
    // constructor returns, as Deno did on a loaded machine.
    const started = Date.now();
    const worker = new workerThreads.Worker(require('node:path').join(__dirname, 'worker-waker.cjs'), {
      workerData: { core: h.corePath, handle: poll.wakeupHandle, delayMs: 100 },
    });
    equal(poll.wait(-1), [], 'woken wait');
    check(Date.now() - started >= 50, 'it waited for the worker');
    await new Promise((resolve) => worker.once('exit', resolve));
    poll.close();
  },
  noWorkers,
);

test(
  'workers: a poller inside a worker delivers through start(); a blocked wait(-1) there ends on terminate()',
  async () => {
    const [r, w] = fifo();
    const worker = new workerThreads.Worker(require('node:path').join(__dirname, 'worker-poller.cjs'), {
      workerData: { core: h.corePath, options: h.pollOptions, fd: r },
    });
    const messages = [];
    worker.on('message', (m) => messages.push(m));
    const until = async (what) => {
      for (let i = 0; i < 300 && !messages.includes(what); i++) await sleep(10);
      check(messages.includes(what), `worker said ${JSON.stringify(messages)}, waiting for ${what}`);
    };
    await until('started');
    write(w, 'x');
    await until('batch');
    await until('blocking');
    await sleep(50);
    const started = Date.now();
    await worker.terminate();
    check(Date.now() - started < 5000, `terminate took ${Date.now() - started} ms`);
  },
  noWorkers,
);

test('start/stop: one batch per readiness, drained level readiness is not reported twice', async () => {
  const poll = poller({ maxEvents: 4 });
  const fds = [];
  for (let i = 0; i < 10; i++) fds.push(fifo());
  fds.forEach(([r], i) => poll.add(r, POLL_READ, i));
  const seen = [];
  let batches = 0;
  poll.start((events) => {
    batches++;
    check(events.length <= 4, 'a batch holds at most maxEvents');
    for (const e of events) {
      seen.push(e.data);
      read(e.fd);
    }
  });
  fds.forEach(([, w]) => write(w));
  for (let i = 0; i < 300 && seen.length < 10; i++) await sleep(10);
  await sleep(100); // anything reported twice would arrive now
  poll.stop();
  equal([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each fd once');
  check(batches >= 3, `${batches} batches for 10 fds at 4 per batch`);
  write(fds[0][1]);
  await sleep(100);
  equal(seen.length, 10, 'nothing after stop()');
  poll.close();
});

test('start: batches keep coming over many round trips', async () => {
  const poll = poller();
  const [r, w] = fifo();
  poll.add(r, POLL_READ);
  let count = 0;
  await new Promise((resolve) => {
    poll.start(() => {
      read(r);
      if (++count === 200) resolve();
      else write(w);
    });
    write(w);
  });
  poll.close();
  equal(count, 200, 'round trips');
});

test('start: an fd that stays ready gets one batch per loop turn, and stop() between turns ends it', async () => {
  const { setImmediate } = require('node:timers');
  const poll = poller();
  const [r, w] = fifo();
  poll.add(r, POLL_READ);
  write(w); // never drained
  let batches = 0;
  let turns = 0;
  let counting = true;
  const countTurn = () => {
    turns++;
    if (counting) setImmediate(countTurn);
  };
  setImmediate(countTurn);
  poll.start(() => batches++);
  await sleep(50); // a delivery that re-reported the fd without returning to the loop would starve this timer
  counting = false;
  poll.stop();
  check(batches > 5, `${batches} batches in 50 ms`);
  check(batches <= turns + 2, `${batches} batches in ${turns} loop turns`);
  let calls = 0;
  poll.start(() => {
    calls++;
    if (calls === 1) setImmediate(() => poll.stop()); // before the next turn's delivery
  });
  await sleep(80);
  equal(calls, 1, 'batches after a stop() between turns');
  check(!poll.started, 'stopped');
  poll.close();
});

test(
  'start: an event the kernel reported before mod() is not delivered after it (a oneshot made by mod() fires once)',
  async () => {
    const poll = poller();
    const [r, w] = fifo();
    poll.add(r, POLL_READ, 'level');
    const seen = [];
    poll.start((events) => events.forEach((e) => seen.push(`${e.data}:${e.events}`)));
    await sleep(20);
    write(w);
    // Long enough for a helper thread to find the event and hand it to the loop.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    poll.mod(r, POLL_READ, 'oneshot', { mode: 'oneshot' });
    await sleep(100);
    poll.close();
    equal(seen.join(' '), `oneshot:${POLL_READ}`, 'events after the mod()');
  },
  modes.includes('oneshot') ? undefined : `${backend} has no oneshot mode`,
);

test('streams: writableTo and readableFrom carry 256 KiB through a FIFO on this poller, and end at EOF', async () => {
  const poll = poller();
  const [r, w] = fifo();
  const readable = core.readableFrom(r, { poll });
  const writable = core.writableTo(w, { poll });
  const payload = Buffer.alloc(256 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  const chunks = [];
  const ended = new Promise((resolve, reject) => {
    readable.on('data', (chunk) => chunks.push(chunk));
    readable.on('end', resolve);
    readable.on('error', reject);
  });
  const finished = new Promise((resolve, reject) => {
    writable.on('finish', resolve);
    writable.on('error', reject);
  });
  writable.end(payload); // four times the FIFO's buffer: the writer waits for POLL_WRITE in between
  const timeout = (what) => sleep(10000).then(() => {
    throw new Error(`no ${what} within 10 s`);
  });
  await Promise.race([finished, timeout("'finish'")]);
  close(w); // the reader's EOF
  await Promise.race([ended, timeout("'end'")]);
  const got = Buffer.concat(chunks);
  equal(got.length, payload.length, 'bytes read');
  check(got.equals(payload), 'the bytes arrive in order, unchanged');
  poll.close();
  close(r);
});

test('streams: backpressure: write() says false once the FIFO and the buffer are full, and drain comes when the reader has read', async () => {
  const poll = poller();
  const [r, w] = fifo();
  const writable = core.writableTo(w, { poll, highWaterMark: 16 * 1024 });
  let drained = false;
  writable.on('drain', () => (drained = true));
  const chunk = Buffer.alloc(16 * 1024, 1);
  let accepted = 0;
  while (writable.write(chunk)) {
    accepted += chunk.length;
    check(accepted <= 1024 * 1024, 'write() never said false');
  }
  await sleep(50);
  check(!drained, "'drain' before anything was read");
  const buf = Buffer.alloc(65536);
  let got = 0;
  for (let i = 0; i < 500 && !drained; i++) {
    try {
      got += fs.readSync(r, buf, 0, buf.length, null);
    } catch (err) {
      if (!err || err.code !== 'EAGAIN') throw err;
    }
    await sleep(2);
  }
  check(drained, `no 'drain' after reading ${got} bytes`);
  writable.destroy();
  poll.close();
});

test('streams: autoClose: destroy() closes the fd with autoClose: true, and leaves it open without', async () => {
  const { execFileSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-conformance-'));
  execFileSync('mkfifo', [path.join(dir, 'f')]);
  const r = fs.openSync(path.join(dir, 'f'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(path.join(dir, 'f'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  const w2 = fs.openSync(path.join(dir, 'f'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  fs.rmSync(dir, { recursive: true, force: true });
  const poll = poller();
  // A FIFO reader sees end of file (read() returns 0) only once every write end is closed.
  const readerSees = () => {
    try {
      return fs.readSync(r, Buffer.alloc(16), 0, 16, null) === 0 ? 'eof' : 'data';
    } catch (err) {
      if (err && err.code === 'EAGAIN') return 'open';
      throw err;
    }
  };
  const kept = core.writableTo(w2, { poll });
  kept.destroy();
  await sleep(20);
  const closing = core.writableTo(w, { poll, autoClose: true });
  closing.destroy();
  await sleep(20);
  equal(readerSees(), 'open', 'with w2 open (its stream had no autoClose)');
  fs.closeSync(w2);
  equal(readerSees(), 'eof', 'after closing w2 (w was closed by its autoClose stream)');
  fs.closeSync(r);
  poll.close();
});

test('streams: a flowing readableFrom() holds the process until its data; unref()ed, it does not', () => {
  const held = h.spawnRuntime('child-stream-ref.cjs', ['ref']);
  equal({ status: held.status, signal: held.signal, out: held.stdout.trim() }, { status: 0, signal: null, out: 'data x' }, `ref'd (${held.stderr.trim()})`);
  const free = h.spawnRuntime('child-stream-ref.cjs', ['unref']);
  equal({ status: free.status, signal: free.signal, out: free.stdout.trim() }, { status: 0, signal: null, out: 'exiting' }, `unref'd (${free.stderr.trim()})`);
});

test('timers and process exits are delivered through start()', async () => {
  const poll = poller();
  poll.addTimer(20, 'timer'); // one-shot: gone once delivered
  const timerBatch = await nextBatch(poll);
  equal(timerBatch.map((e) => ({ timer: (e.events & core.POLL_TIMER) !== 0, data: e.data })), [{ timer: true, data: 'timer' }], 'timer batch');
  if (poll.supportedSources.includes('process')) { // else: this kernel or backend cannot watch processes
    const child = require('node:child_process').spawn('sleep', ['0.05'], { stdio: 'ignore' });
    poll.addProcess(child.pid, 'child');
    const exitBatch = await nextBatch(poll);
    equal(exitBatch.map((e) => ({ exit: (e.events & core.POLL_EXIT) !== 0, data: e.data })), [{ exit: true, data: 'child' }], 'exit batch');
  }
  poll.close();
});

test('waitAsync: resolves with events, times out with [], a wakeup ends it', async () => {
  const poll = poller();
  const [r, w] = fifo();
  poll.add(r, POLL_READ, 'async');
  setTimeout(() => write(w), 30);
  equal(simple(await poll.waitAsync(3000)), [{ fd: r, events: POLL_READ, data: 'async' }], 'events');
  read(r);
  const t0 = Date.now();
  equal(await poll.waitAsync(100), [], 'timeout');
  check(Date.now() - t0 >= 90, 'waited the timeout');
  setTimeout(() => poll.wakeup(), 30);
  const t1 = Date.now();
  equal(await poll.waitAsync(5000), [], 'wakeup');
  check(Date.now() - t1 < 4000, 'ended by the wakeup');
  poll.close();
});

test('ref/unref: hasRef() follows; an unref()ed started poller does not hold the process', () => {
  const poll = poller();
  check(poll.unref() === poll && poll.hasRef() === false, 'unref');
  check(poll.ref() === poll && poll.hasRef() === true, 'ref');
  poll.close();
  const r = h.spawnRuntime('child-unref-exit.cjs');
  equal({ status: r.status, signal: r.signal, out: r.stdout.trim() }, { status: 0, signal: null, out: 'exiting' }, `child (${r.stderr.trim()})`);
  check(r.ms < 10000, `exited in ${r.ms} ms`);
});

test('ref: a started poller keeps the process alive until its batch arrives', () => {
  const r = h.spawnRuntime('child-ref-keeps-alive.cjs');
  equal({ status: r.status, signal: r.signal, out: r.stdout.trim() }, { status: 0, signal: null, out: 'batch' }, `child (${r.stderr.trim()})`);
});

test('teardown: a process that exits on an uncaught exception with pollers open (started or not) exits with it, not a crash', () => {
  const r = h.spawnRuntime('child-teardown.cjs', ['uncaught']);
  equal({ status: r.status, signal: r.signal }, { status: 1, signal: null }, `child (${r.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  check(r.stderr.includes('uncaught, on purpose'), `the exception is reported (${r.stderr.trim().slice(0, 200)})`);
});

test(
  'teardown: terminating a worker with pollers open (started or not) leaves the process running',
  () => {
    const r = h.spawnRuntime('child-teardown.cjs', ['worker']);
    equal({ status: r.status, signal: r.signal, out: r.stdout.trim() }, { status: 0, signal: null, out: 'terminated' }, `child (${r.stderr.trim().slice(0, 200)})`);
  },
  noWorkers,
);

test('typed errors: EEXIST, ENOENT, bad arguments, busy and closed pollers', async () => {
  const poll = poller();
  const [r] = fifo();
  poll.add(r, POLL_READ);
  const exists = await throwsCode(() => poll.add(r, POLL_READ), 'EEXIST', 'second add');
  check(exists instanceof core.SocketPollError && exists.errno < 0 && typeof exists.syscall === 'string', 'a SocketPollError');
  await throwsCode(() => poll.del(r + 1000), 'ENOENT', 'del of an unregistered fd');
  await throwsCode(() => poll.add(-1, POLL_READ), 'ERR_OUT_OF_RANGE', 'negative fd');
  await throwsCode(() => poll.add('3', POLL_READ), 'ERR_INVALID_ARG_TYPE', 'fd as a string');
  poll.start(() => {});
  await throwsCode(() => poll.wait(0), 'ERR_SOCKETPOLL_BUSY', 'wait() while started');
  poll.stop();
  poll.close();
  await throwsCode(() => poll.wait(0), 'ERR_SOCKETPOLL_CLOSED', 'wait() after close()');
  await throwsCode(() => new SocketPoll({ ...h.pollOptions, maxEvents: 0 }), 'ERR_OUT_OF_RANGE', 'maxEvents 0');
});

test('close: a started poller closes cleanly, wakeup() of its handle then says false', async () => {
  const poll = poller();
  const [r, w] = fifo();
  poll.add(r, POLL_READ);
  poll.start(() => {});
  const handle = poll.wakeupHandle;
  equal(wakeup(handle), true, 'wakeup of an open poller');
  write(w);
  await sleep(20);
  poll.close();
  equal(wakeup(handle), false, 'wakeup after close()');
});

h.run(`conformance: ${runtime.name} ${runtime.version}, ${backend} (${loadedFrom}), delivery ${delivery}`);
