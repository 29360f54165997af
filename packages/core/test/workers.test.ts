import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BACKENDS, sleep } from './helpers/backends';
import * as fds from './helpers/fds';

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');

function runWorker(body: string, options: object): { worker: Worker; result: Promise<unknown>; exited: Promise<number> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { SocketPoll, POLL_READ } = require(workerData.core);
     const fds = require(workerData.helper);
     const options = workerData.options;
     (async () => { ${body} })().then((r) => parentPort.postMessage({ ok: r }), (e) => parentPort.postMessage({ err: String(e && e.stack || e) }));`,
    { eval: true, workerData: { core: CORE_DIST, helper: fds.HELPER_PATH, options } },
  );
  const result = new Promise((resolve, reject) =>
    worker.once('message', (m: { ok?: unknown; err?: string }) => (m.err ? reject(new Error(m.err)) : resolve(m.ok))),
  );
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, result, exited };
}

async function settledPollerFds(expected: number): Promise<number> {
  // Closing happens on the worker's loop as it tears down: give it a moment.
  for (let i = 0; i < 50 && fds.pollerFdCount() !== expected; i++) await sleep(20);
  return fds.pollerFdCount();
}

describe.each(BACKENDS)('worker threads on $label', (backend) => {
  test('a poller works inside a worker, with event-loop delivery', async () => {
    const { result, exited } = runWorker(
      `const poll = new SocketPoll(options);
       const [a, b] = fds.socketpair();
       poll.add(a, POLL_READ, 'in-worker');
       const got = new Promise((resolve) => poll.start((events) => resolve(events.map((e) => e.data))));
       fds.write(b, 'x');
       const data = await got;
       poll.close(); fds.close(a); fds.close(b);
       return { backend: poll.backendName, data };`,
      backend.options,
    );
    expect(await result).toEqual({ backend: backend.name, data: ['in-worker'] });
    expect(await exited).toBe(0);
  });

  test('pollers a worker leaves open are released when it exits (no fd leak)', async () => {
    const before = fds.pollerFdCount();
    const { result, exited } = runWorker(
      `for (let i = 0; i < 5; i++) {
         const poll = new SocketPoll(options);
         if (i % 2) poll.start(() => {}).unref();
       }
       return 'left open';`,
      backend.options,
    );
    expect(await result).toBe('left open');
    expect(await exited).toBe(0);
    expect(await settledPollerFds(before)).toBe(before);
  });

  test('terminating a worker while it is started and waiting does not crash and leaks nothing', async () => {
    const before = fds.pollerFdCount();
    const { worker, result } = runWorker(
      `const poll = new SocketPoll(options);
       const [a, b] = fds.socketpair();
       poll.add(a, POLL_READ);
       poll.start(() => {});
       const other = new SocketPoll(options);
       other.waitAsync(-1);
       parentPort.postMessage({ ok: { status: 'waiting', pair: [a, b] } });
       await new Promise(() => {});`,
      backend.options,
    );
    const { status, pair } = (await result) as { status: string; pair: number[] };
    expect(status).toBe('waiting');
    await sleep(30);
    await worker.terminate();
    pair.forEach((fd) => fds.close(fd)); // fds belong to the process, not to the worker
    expect(await settledPollerFds(before)).toBe(before);
  });
});
