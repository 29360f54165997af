'use strict';
// Child process: a started (ref'd) poller and an unref()ed timer that makes its FIFO readable.
// Only the poller holds the loop; the process must live until the batch arrives, then exit.
const fs = require('node:fs');
const openFifo = require('./fifo.cjs');
const { SocketPoll, POLL_READ } = require(process.env.SOCKETPOLL_CONFORMANCE_CORE);
const [r, w] = openFifo();
const poll = new SocketPoll(JSON.parse(process.env.SOCKETPOLL_CONFORMANCE_OPTIONS));
poll.add(r, POLL_READ);
poll.start(() => {
  console.log('batch');
  poll.close();
});
setTimeout(() => fs.writeSync(w, 'x'), 200).unref();
