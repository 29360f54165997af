// fd-reuse.mjs — what a watch left on a closed fd does to the next Node handle given its number.
//
//   node scripts/fd-reuse.mjs
//
// For each design: a socketpair end is watched, then closed without being unwatched, and Node opens
// a TCP connection to an echo server in the same process, which gets the freed number. Prints
// whether the connection completed and echoed within 2 s. Designs: one uv_poll_t per fd on Node's
// loop (the naive design, build/bin/helper.node uvPoll; libuv keys its watchers by fd number),
// and @socketpoll/core's start() on epoll and on poll (the registration is nested in the backend's
// own set). Each design runs in its own process: the naive one leaves that loop broken.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const design = process.argv[2];

if (!design) {
  for (const d of ['uv-poll', 'sp-epoll-start', 'sp-poll-start']) {
    process.stdout.write(execFileSync(process.execPath, [fileURLToPath(import.meta.url), d], { encoding: 'utf8' }));
  }
  process.exit(0);
}

const require = createRequire(import.meta.url);
const helper = require(join(pkgRoot, 'build', 'bin', 'helper.node'));
let calls = 0;
const server = net.createServer((conn) => conn.pipe(conn));
// The first listen() also opens an fd of libuv's (its EMFILE reserve): before the close.
server.listen(0, '127.0.0.1', () => {
  const pair = helper.socketpairs(1);
  const fd = pair[0];
  if (design === 'uv-poll') {
    helper.uvPoll(fd, () => calls++);
  } else {
    const { SocketPoll, POLL_READ } = require('@socketpoll/core');
    const poll = new SocketPoll({ backend: design === 'sp-poll-start' ? 'poll' : 'epoll' });
    poll.add(fd, POLL_READ, 'old');
    poll.start((events) => (calls += events.length));
  }
  setTimeout(() => {
    helper.closeAll(pair.reverse()); // the peer, then the watched end: without unwatching it
    const client = net.connect(server.address().port, '127.0.0.1', () => client.write('ping'));
    const report = (outcome) => {
      console.log(`${design.padEnd(15)} closed fd ${fd}, Node's TCP socket got fd ${client._handle?.fd}: ${outcome}; the old watch's callback ran ${calls} times`);
      process.exit(0);
    };
    const timer = setTimeout(() => report(client.connecting ? 'never connected in 2 s' : 'connected, no echo in 2 s'), 2000);
    client.on('data', (d) => {
      clearTimeout(timer);
      report(`connected and echoed "${d}"`);
    });
  }, 50);
});
