'use strict';
// Child process: a started but unref()ed poller on an idle FIFO; the process must exit by itself.
const openFifo = require('./fifo.cjs');
const { SocketPoll, POLL_READ } = require(process.env.SOCKETPOLL_CONFORMANCE_CORE);
const [r] = openFifo();
const poll = new SocketPoll(JSON.parse(process.env.SOCKETPOLL_CONFORMANCE_OPTIONS));
poll.add(r, POLL_READ);
poll.start(() => {}).unref();
console.log('exiting');
