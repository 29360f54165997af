// A FIFO (named pipe) read without blocking: a writer process sends lines at its own pace, the
// poller says when there is something to read, and a hang-up means the writer has gone.
//
//   node examples/build/recipes/fifo.js   (after `pnpm build`)
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SocketPoll, POLL_READ, POLL_HANGUP } from '@socketpoll/core';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fifo-recipe-'));
const fifo = path.join(dir, 'readings');
execFileSync('mkfifo', [fifo]);
// O_NONBLOCK: opening does not wait for a writer, and reads return EAGAIN instead of blocking.
const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);

const writer = spawn('sh', ['-c', 'for i in 1 2 3; do echo "reading $i"; sleep 0.05; done > "$0"', fifo], { stdio: 'inherit' });

const poll = new SocketPoll<{ name: string }>();
const buf = Buffer.alloc(4096);
let received = '';
poll.add(fd, POLL_READ, { name: 'readings' });
poll.start((events) => {
  for (const { fd, events: ready, data } of events) {
    if (!(ready & POLL_READ)) continue; // a hang-up comes with POLL_READ: the read sees the end of file
    const n = readSome(fd);
    if (n > 0) received += buf.toString('utf8', 0, n);
    // A FIFO reports POLL_HANGUP once its last writer has closed, and keeps reporting it (level
    // mode) until the read end is closed; data written before the close is still read first.
    if (ready & POLL_HANGUP && n <= 0) {
      console.log(`${data.name}: writer gone; got ${JSON.stringify(received)}`);
      poll.del(fd); // before closing the fd
      fs.closeSync(fd);
      poll.close();
      fs.rmSync(dir, { recursive: true });
    }
  }
});

/** One read: the byte count, 0 at end of file, -1 when nothing is there yet (EAGAIN). */
function readSome(fd: number): number {
  try {
    return fs.readSync(fd, buf, 0, buf.length, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
    throw err;
  }
}

writer.on('exit', (code) => {
  if (code !== 0) throw new Error(`writer exited with ${code}`);
});
