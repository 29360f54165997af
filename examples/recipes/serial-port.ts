// A serial device read and written without blocking: a USB serial adapter (/dev/ttyUSB0,
// /dev/ttyACM0) or a pseudo-terminal behaves the same. Try it without hardware with a socat pty pair:
//
//   socat pty,raw,echo=0,link=/tmp/ttyA pty,raw,echo=0,link=/tmp/ttyB &
//   node examples/build/recipes/serial-port.js /tmp/ttyA      # then type into: socat - /tmp/ttyB,raw,echo=0
//
// It sends "hello\n", prints each line it receives, and stops after a line "bye".
// Line settings (baud rate, parity) are the device's; set them first, e.g. `stty -F /dev/ttyUSB0 115200 raw -echo`.
import * as fs from 'node:fs';
import { SocketPoll, POLL_READ, POLL_WRITE, POLL_HANGUP, POLL_ERROR } from '@socketpoll/core';

const device = process.argv[2];
if (!device) throw new Error('usage: node serial-port.js <device, e.g. /dev/ttyUSB0>');

// O_NOCTTY: the device does not become this process's controlling terminal.
// O_NONBLOCK: reads and writes return EAGAIN instead of blocking; the poller says when to retry.
const fd = fs.openSync(device, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
const poll = new SocketPoll();
let pending = Buffer.from('hello\n');
let line = '';
const buf = Buffer.alloc(1024);

// Wait for room to write while something is pending, always for data to read.
poll.add(fd, POLL_READ | POLL_WRITE);
poll.start((events) => {
  for (const { fd, events: ready } of events) {
    if (ready & (POLL_HANGUP | POLL_ERROR)) return finish('device gone');
    if (ready & POLL_WRITE && pending.length > 0) {
      pending = pending.subarray(fs.writeSync(fd, pending));
      if (pending.length === 0) poll.mod(fd, POLL_READ); // nothing more to send: stop asking for POLL_WRITE
    }
    if (ready & POLL_READ) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      line += buf.toString('utf8', 0, n);
      let end;
      while ((end = line.indexOf('\n')) >= 0) {
        const text = line.slice(0, end).replace(/\r$/, '');
        line = line.slice(end + 1);
        console.log(`received: ${text}`);
        if (text === 'bye') return finish('done');
      }
    }
  }
});

function finish(why: string): void {
  console.log(why);
  poll.del(fd);
  fs.closeSync(fd);
  poll.close();
}
