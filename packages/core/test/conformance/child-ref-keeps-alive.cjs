'use strict';
// Child process: a started (ref'd) poller and an unref()ed timer that makes its FIFO readable.
// Only the poller holds the loop; the process must live until the batch arrives, then exit.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SocketPoll, POLL_READ } = require(process.env.SOCKETPOLL_CONFORMANCE_CORE);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-child-'));
execFileSync('mkfifo', [path.join(dir, 'f')]);
const r = fs.openSync(path.join(dir, 'f'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const w = fs.openSync(path.join(dir, 'f'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
fs.rmSync(dir, { recursive: true, force: true });
const poll = new SocketPoll(JSON.parse(process.env.SOCKETPOLL_CONFORMANCE_OPTIONS));
poll.add(r, POLL_READ);
poll.start(() => {
  console.log('batch');
  poll.close();
});
setTimeout(() => fs.writeSync(w, 'x'), 200).unref();
