'use strict';
// A FIFO's [read end, write end], both non-blocking; the FIFO itself is unlinked at once. Shared by
// the harness and the child scripts (which load only this and core).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = function openFifo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-conformance-'));
  const name = path.join(dir, 'f');
  execFileSync('mkfifo', [name]);
  const r = fs.openSync(name, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(name, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  fs.rmSync(dir, { recursive: true, force: true });
  return [r, w];
};
