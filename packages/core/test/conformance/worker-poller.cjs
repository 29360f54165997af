'use strict';
// Worker: a poller on workerData.fd delivers one batch through start(), then a second poller blocks
// in wait(-1) until the worker is terminated. Reports 'started', 'batch', 'blocking'.
const { parentPort, workerData } = require('node:worker_threads');
const { SocketPoll, POLL_READ } = require(workerData.core);
const poll = new SocketPoll(workerData.options);
poll.add(workerData.fd, POLL_READ);
poll.start(() => {
  poll.close();
  parentPort.postMessage('batch');
  setTimeout(() => {
    const blocking = new SocketPoll(workerData.options);
    parentPort.postMessage('blocking');
    blocking.wait(-1);
    parentPort.postMessage('returned');
  }, 10);
});
parentPort.postMessage('started');
