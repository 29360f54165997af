'use strict';
// Child process: a flowing readableFrom() stream on an idle FIFO, its data written by an unref()ed
// timer. `ref` (the default): the stream holds the process until the data arrives, then it exits.
// `unref`: stream.unref() is called, nothing holds the process, and it exits before the data.
const fs = require('node:fs');
const openFifo = require('./fifo.cjs');
const { SocketPoll, readableFrom } = require(process.env.SOCKETPOLL_CONFORMANCE_CORE);
const [r, w] = openFifo();
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
