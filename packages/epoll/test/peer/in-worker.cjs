'use strict';
// Runs test files of the `epoll` package's own suite inside worker_threads Workers: each file's
// code runs in a Worker of its own, and the process exits with the first non-zero exit code. With
// several files, their Workers run at the same time in this one process (all watching stdin, fd 0,
// which the Workers share with the main thread).
//   echo | node in-worker.cjs path/to/test/one-shot.js [more files...]
const { Worker } = require('node:worker_threads');
const path = require('node:path');

const files = process.argv.slice(2).map((f) => path.resolve(f));
if (files.length === 0) {
  console.error('usage: in-worker.cjs <test file>...');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const name = path.basename(file, '.js');
  // The files are CommonJS (`require('../')`); a Worker runs a .js file as the main module would.
  const worker = new Worker(file, { stdout: false, stderr: false });
  worker.on('error', (err) => {
    console.log(`${name}: uncaught in the worker: ${err && err.stack ? err.stack : err}`);
    failed = failed || 1;
  });
  worker.on('exit', (code) => {
    if (code !== 0) {
      console.log(`${name}: the worker exited with code ${code}`);
      failed = failed || code;
    }
  });
}
process.on('exit', () => {
  if (failed) process.exitCode = failed;
});
