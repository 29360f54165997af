// fds that come from a native addon: an eventfd and a timerfd made by a small Node-API addon
// (native-fd/timerfd.c) and polled from JS like any other fd. Linux only.
//
//   pnpm --filter @socketpoll/examples build   # builds the addon (node-gyp) and compiles the recipes
//   node examples/build/recipes/native-fd.js
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SocketPoll, POLL_READ } from '@socketpoll/core';

interface TimerAddon {
  /** A non-blocking eventfd with the given initial counter. */
  eventfd(initial?: number): number;
  /** A non-blocking timerfd expiring every `intervalMs`. */
  timerfd(intervalMs: number): number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require(path.join(__dirname, '../../recipes/native-fd/build/Release/timerfd.node')) as TimerAddon;

const signal = addon.eventfd();
const ticks = addon.timerfd(20);
const counter = Buffer.alloc(8); // both fds read and write one 8-byte unsigned counter

const poll = new SocketPoll<'signal' | 'timer'>();
poll.add(signal, POLL_READ, 'signal');
poll.add(ticks, POLL_READ, 'timer');

let expirations = 0n;
poll.start((events) => {
  for (const { fd, events: ready, data } of events) {
    if (!(ready & POLL_READ)) continue;
    fs.readSync(fd, counter, 0, 8, null); // reading resets the counter: level mode stops reporting it
    const value = counter.readBigUInt64LE();
    if (data === 'timer') {
      expirations += value;
      console.log(`timer: ${value} expiration(s), ${expirations} in all`);
      // Signal the eventfd after the third expiration, as another thread or process would.
      if (expirations >= 3n && poll.has(ticks)) {
        poll.del(ticks);
        fs.closeSync(ticks);
        counter.writeBigUInt64LE(1n);
        fs.writeSync(signal, counter);
      }
    } else {
      console.log(`eventfd: signalled (counter ${value})`);
      poll.del(signal);
      fs.closeSync(signal);
      poll.close();
    }
  }
});
