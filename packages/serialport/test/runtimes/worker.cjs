'use strict';
// smoke.cjs's worker: opens the port it is given, echoes the first chunk with an `echo:` prefix,
// and keeps the port open until it is terminated.
const { parentPort, workerData } = require('node:worker_threads');
const { SerialPort } = require('../../dist');

const port = new SerialPort({ path: workerData.path, baudRate: 115200 }, (err) => {
  if (err) throw err;
  port.once('data', (chunk) => port.write(Buffer.concat([Buffer.from('echo:'), chunk])));
  parentPort.postMessage('open');
});
