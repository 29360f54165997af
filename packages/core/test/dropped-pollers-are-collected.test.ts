/**
 * A poller that is stopped (or never started) and that nothing references is garbage-collected and
 * releases its kernel objects, however it was used: wait(), start() then stop(), waitAsync(), or
 * nothing. 100 such pollers per use, in a child process (`--expose-gc`) that must also exit on its
 * own. Every backend, both delivery paths.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PATHS } from './helpers/backends';
import { HELPER_PATH } from './helpers/fds';

const FIXTURE = path.join(__dirname, 'fixtures/dropped-pollers.js');
const CORE_DIST = path.resolve(__dirname, '../dist/index.js');
const USES = ['never', 'wait', 'start-stop', 'wait-async'] as const;

describe.each(PATHS)('dropped pollers on $label', (p) => {
  test.each(USES)('100 pollers used as "%s" and dropped are collected, and the process exits', (use) => {
    const r = spawnSync(process.execPath, ['--expose-gc', FIXTURE, CORE_DIST, JSON.stringify(p.backend.options), use, '100'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, SOCKETPOLL_FD_HELPER: HELPER_PATH, SOCKETPOLL_DELIVERY: p.delivery, SOCKETPOLL_BACKEND: '' },
    });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const { held, left } = JSON.parse(r.stdout) as { held: number; left: number };
    expect(held).toBeGreaterThanOrEqual(100); // the pollers did hold kernel objects
    expect(left).toBe(0);
  });
});
