'use strict';
// Exercises every binding path once per backend, for `valgrind node scripts/valgrind-smoke.js`:
// add/mod/del/wait/wakeup, start/stop, waitAsync, close with events pending, garbage-collected
// pollers, and a worker that exits with pollers open. Leaks are read from valgrind's report for
// frames in our addons (valgrind-check.js runs it and reads the report).
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { SocketPoll, POLL_READ, POLL_WRITE } = require('../dist/index.js');
const fds = require(path.resolve(__dirname, '../../native/gyp/build/Release/fd_helper.node'));

const backends = (process.env.SOCKETPOLL_TEST_BACKENDS || 'epoll,poll').split(',');

async function exercise(backend) {
  const poll = new SocketPoll({ backend, maxEvents: 8 });
  const pairs = Array.from({ length: 20 }, () => fds.socketpair());
  pairs.forEach(([a], i) => poll.add(a, POLL_READ, { i }));
  pairs.forEach(([, b]) => fds.write(b, 'x'));
  while (poll.wait(0).length > 0) pairs.forEach(([a]) => fds.drain(a));
  const buf = Buffer.alloc(20 * 16);
  poll.writeEach(pairs.map(([, b]) => b), buf, 16, new Int32Array(20).fill(3));
  poll.readEach(pairs.map(([a]) => a).concat([-1]).slice(0, 20), buf, 16);
  poll.mod(pairs[0][0], POLL_WRITE);
  poll.wakeup();
  poll.wait(10);
  await new Promise((resolve) => {
    poll.start((events) => {
      if (events.length) {
        poll.stop();
        resolve();
      }
    });
  });
  fds.write(pairs[1][1], 'y');
  await poll.waitAsync(1000);
  pairs.slice(0, 10).forEach(([a]) => poll.del(a));
  poll.close();
  pairs.forEach(([a, b]) => (fds.close(a), fds.close(b)));
  for (let i = 0; i < 5; i++) new SocketPoll({ backend }).start(() => {}).unref().stop();
  await new Promise((resolve) => {
    const w = new Worker(
      `const { SocketPoll } = require(${JSON.stringify(require.resolve('../dist/index.js'))});
       for (let i = 0; i < 3; i++) new SocketPoll({ backend: ${JSON.stringify(backend)} }).start(() => {}).unref();`,
      { eval: true },
    );
    w.on('exit', resolve);
  });
}

(async () => {
  for (const b of backends) await exercise(b);
  if (global.gc) global.gc();
  console.log('valgrind-smoke: done', backends.join(','));
})();
