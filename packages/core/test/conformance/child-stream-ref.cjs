'use strict';
// Child process: a flowing readableFrom() stream on an idle FIFO, its data written by an unref()ed
// timer. `ref` (the default): the stream holds the process until the data arrives, then it exits.
// `unref`: stream.unref() is called, nothing holds the process, and it exits before the data.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SocketPoll, readableFrom } = require(process.env.SOCKETPOLL_CONFORMANCE_CORE);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-child-'));
execFileSync('mkfifo', [path.join(dir, 'f')]);
const r = fs.openSync(path.join(dir, 'f'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const w = fs.openSync(path.join(dir, 'f'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
fs.rmSync(dir, { recursive: true, force: true });
const poll = new SocketPoll(JSON.parse(process.env.SOCKETPOLL_CONFORMANCE_OPTIONS));
const stream = readableFrom(r, { poll });
stream.on('data', (chunk) => {
  console.log(`data ${chunk}`);
  stream.destroy();
  poll.close();
});
if (process.argv[2] === 'unref') {
  stream.unref();
  console.log('exiting');
}
setTimeout(() => fs.writeSync(w, 'x'), 300).unref();
