'use strict';
// Child process: a started but unref()ed poller on an idle FIFO; the process must exit by itself.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SocketPoll, POLL_READ } = require(process.env.SOCKETPOLL_CONFORMANCE_CORE);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-child-'));
execFileSync('mkfifo', [path.join(dir, 'f')]);
const r = fs.openSync(path.join(dir, 'f'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
fs.rmSync(dir, { recursive: true, force: true });
const poll = new SocketPoll(JSON.parse(process.env.SOCKETPOLL_CONFORMANCE_OPTIONS));
poll.add(r, POLL_READ);
poll.start(() => {}).unref();
console.log('exiting');
