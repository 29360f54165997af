import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BACKENDS } from './helpers/backends';
import { HELPER_PATH } from './helpers/fds';

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');

// The test-only kqueue emulation refuses terminals with EINVAL when KQUEUE_EMULATION_EINVAL=tty
// is in the process environment (as macOS's kqueue refuses /dev/tty); the kqueue backend must
// then watch them with its side watcher. jest gives tests a copy of process.env, so the scenario
// runs in a child process started with that variable. The other backends watch ptys themselves:
// the same assertions hold everywhere.
function scenario(options: object, backendName: string): string {
  return `
    const assert = require('node:assert/strict');
    const fs = require('node:fs');
    const { SocketPoll, POLL_READ } = require(${JSON.stringify(CORE_DIST)});
    const h = require(${JSON.stringify(HELPER_PATH)});
    const threads = () => fs.readdirSync('/proc/self/task').length;
    (async () => {
      const poll = new SocketPoll({ ...${JSON.stringify(options)}, maxEvents: 16 });
      const [master, slave] = h.openpty();
      const [a, b] = h.socketpair();
      const before = threads();
      poll.add(a, POLL_READ, 'socket');
      assert.equal(threads(), before, 'no helper thread for an fd kqueue takes');
      poll.add(slave, POLL_READ, 'tty');
      const isKqueue = ${JSON.stringify(backendName)} === 'kqueue';
      assert.equal(threads(), before + (isKqueue ? 1 : 0), 'the side watcher starts with the first refused fd');

      // level, in one batch with an fd kqueue takes
      assert.deepEqual(poll.wait(30), []);
      h.write(master, 'line\\n'); // a pty passes it on asynchronously: wait until it arrives
      assert.deepEqual(poll.wait(2000), [{ fd: slave, events: POLL_READ, data: 'tty' }]);
      h.write(b, 'x');
      const batch = poll.wait(2000); // the tty is still readable (level): both in one batch
      assert.deepEqual(batch.map((e) => e.data).sort(), ['socket', 'tty']);
      h.drain(a);
      assert.deepEqual(poll.wait(2000), [{ fd: slave, events: POLL_READ, data: 'tty' }]);
      h.drain(slave);
      assert.deepEqual(poll.wait(50), []);

      // edge is refused for a refused fd; oneshot works
      poll.del(slave);
      if (isKqueue) {
        assert.throws(() => poll.add(slave, POLL_READ, 'tty', { mode: 'edge' }), { code: 'ENOTSUP' });
        assert.equal(poll.has(slave), false);
      }
      poll.add(slave, POLL_READ, 'tty', { mode: 'oneshot' });
      h.write(master, 'line\\n');
      assert.deepEqual(poll.wait(2000), [{ fd: slave, events: POLL_READ, data: 'tty' }]);
      assert.deepEqual(poll.wait(50), []);
      h.drain(slave);

      // start(): delivered on the event loop, the kqueue wait woken by the side watcher
      poll.mod(slave, POLL_READ);
      const got = new Promise((resolve) => poll.start(resolve));
      setTimeout(() => h.write(master, 'line\\n'), 30);
      assert.deepEqual(await got, [{ fd: slave, events: POLL_READ, data: 'tty' }]);
      poll.close();
      process.stdout.write('ok');
    })().catch((e) => { console.error(e); process.exit(1); });`;
}

describe.each(BACKENDS)('an fd kqueue refuses (a terminal) on $label', (backend) => {
  test('level and oneshot like any fd, edge ENOTSUP on kqueue, in the same batches, on the event loop', () => {
    if (process.platform !== 'linux') {
      console.log('skipped: the refusal is the Linux kqueue emulation’s (and /proc/self/task counts threads)');
      return;
    }
    const child = spawnSync(process.execPath, ['-e', scenario(backend.options, backend.name)], {
      env: { ...process.env, KQUEUE_EMULATION_EINVAL: 'tty' },
      timeout: 30000,
    });
    expect(child.stderr.toString()).toBe('');
    expect(child.stdout.toString()).toBe('ok');
  });
});
