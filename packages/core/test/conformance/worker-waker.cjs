'use strict';
// Worker: wakes the poller behind workerData.handle after workerData.delayMs.
const { workerData } = require('node:worker_threads');
const { wakeup } = require(workerData.core);
setTimeout(() => wakeup(workerData.handle), workerData.delayMs);
