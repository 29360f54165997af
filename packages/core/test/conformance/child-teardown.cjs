'use strict';
// Child process: an environment torn down while two pollers are open, one started and one never
// started, which their cleanup hooks then release. `uncaught`: the process exits on an uncaught exception (status 1).
// `worker`: a worker with such a poller is terminated; the process goes on and prints 'terminated'.
const openFifo = require('./fifo.cjs');
const core = process.env.SOCKETPOLL_CONFORMANCE_CORE;
const options = JSON.parse(process.env.SOCKETPOLL_CONFORMANCE_OPTIONS);

function openPollers(SocketPoll, POLL_READ) {
  const [r] = openFifo();
  const started = new SocketPoll(options);
  started.add(r, POLL_READ);
  started.start(() => {});
  const idle = new SocketPoll(options);
  idle.add(r, POLL_READ);
  return [started, idle];
}

const { isMainThread, parentPort, Worker } = require('node:worker_threads');
if (!isMainThread) {
  const { SocketPoll, POLL_READ } = require(core);
  globalThis.pollers = openPollers(SocketPoll, POLL_READ);
  parentPort.postMessage('up');
} else if (process.argv[2] === 'worker') {
  const worker = new Worker(__filename);
  worker.on('message', async () => {
    await worker.terminate();
    console.log('terminated');
  });
} else {
  const { SocketPoll, POLL_READ } = require(core);
  globalThis.pollers = openPollers(SocketPoll, POLL_READ);
  throw new Error('uncaught, on purpose');
}
