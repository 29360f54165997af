/**
 * A blocking wait() on a worker thread: terminate() and process.exit() end it, while wakeups and
 * timeouts behave as on the main thread (the wait is cut into slices there; see src/wait-slices.ts).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BACKENDS } from './helpers/backends';

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');
const FIXTURE = path.join(__dirname, 'fixtures/blocked-wait-exit.js');

/** Runs `body` (async, may use `poll`, `wakeup`, `handle`) in a worker; resolves with what it returns. */
function inWorker(body: string, options: object): Promise<unknown> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { SocketPoll, wakeup } = require(workerData.core);
     const poll = new SocketPoll(workerData.options);
     const now = () => performance.now();
     (async () => { ${body} })().then((r) => { poll.close(); parentPort.postMessage({ ok: r }); },
       (e) => parentPort.postMessage({ err: String(e && e.stack || e) }));`,
    { eval: true, workerData: { core: CORE_DIST, options } },
  );
  return new Promise((resolve, reject) =>
    worker.once('message', (m: { ok?: unknown; err?: string }) => (m.err ? reject(new Error(m.err)) : resolve(m.ok))),
  );
}

describe.each(BACKENDS)('a blocking wait on a worker on $label', (backend) => {
  test('worker.terminate() and process.exit() end a worker blocked in wait(-1)', () => {
    const r = spawnSync(process.execPath, [FIXTURE, CORE_DIST, JSON.stringify(backend.options)], {
      encoding: 'utf8',
      timeout: 20000,
    });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(r.stdout).toMatch(/terminated in \d+ ms\nexiting\n/);
  });

  test('wait(-1) on a worker returns [] at once for a wakeup asked for before it began', async () => {
    const took = await inWorker(
      `poll.wakeup();
       const t0 = now();
       const events = poll.wait(-1);
       return { events, fast: now() - t0 < 1000 };`,
      backend.options,
    );
    expect(took).toEqual({ events: [], fast: true });
  });

  test('wait(-1) on a worker returns [] for a wakeup from another thread after several slices', async () => {
    const took = await inWorker(
      `const { Worker } = require('node:worker_threads');
       const waker = new Worker("const { workerData } = require('node:worker_threads');" +
         "setTimeout(() => require(workerData.core).wakeup(workerData.handle), 350);",
         { eval: true, workerData: { core: workerData.core, handle: poll.wakeupHandle } });
       const t0 = now();
       const events = poll.wait(-1);
       const ms = now() - t0;
       await new Promise((r) => waker.once('exit', r));
       return { events, afterWakeup: ms >= 300 };`,
      backend.options,
    );
    expect(took).toEqual({ events: [], afterWakeup: true });
  });

  test('wait(timeout) on a worker lasts the whole timeout, not a whole number of slices', async () => {
    const took = (await inWorker(
      `const t0 = now();
       const events = poll.wait(250);
       return { events, ms: now() - t0 };`,
      backend.options,
    )) as { events: unknown[]; ms: number };
    expect(took.events).toEqual([]);
    expect(took.ms).toBeGreaterThanOrEqual(240);
  });
});
