/**
 * A process whose only load of the addon happens in a worker thread must exit cleanly: the
 * worker's exit unloads (dlclose) what only it loaded, and nothing of the addon may run after that
 * (exit handlers registered from it, destructors). Each case runs in a fresh process, because the
 * main thread of this jest worker has already loaded every backend.
 *
 * The process is `process.execPath`, or the command in SOCKETPOLL_TEST_NODE (a qemu wrapper when
 * the suite runs on an emulated CPU, where the host cannot exec the target's node directly).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BACKENDS } from './helpers/backends';

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');
const NODE = process.env.SOCKETPOLL_TEST_NODE ?? process.execPath;

function runInFreshProcess(workerBody: string, afterWorker: string): { status: number | null; signal: string | null; output: string } {
  const script = `
    const { Worker } = require('node:worker_threads');
    const worker = new Worker(${JSON.stringify(workerBody)}, { eval: true, workerData: ${JSON.stringify({ core: CORE_DIST })} });
    worker.on('error', (e) => { console.error('worker error:', e); process.exitCode = 3; });
    ${afterWorker}`;
  const r = spawnSync(NODE, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, output: `${r.stdout}${r.stderr}` };
}

describe.each(BACKENDS)('a load that happens only in a worker, on $label', (backend) => {
  const load = `const { workerData, parentPort } = require('node:worker_threads');
    const { SocketPoll } = require(workerData.core);
    const poll = new SocketPoll(${JSON.stringify(backend.options)});
    if (poll.backendName !== ${JSON.stringify(backend.name)}) throw new Error('loaded ' + poll.backendName);`;

  test('the process exits 0 after the worker exits normally', () => {
    const r = runInFreshProcess(`${load} poll.close();`, `worker.on('exit', (code) => { if (code !== 0) process.exitCode = 4; });`);
    expect(r).toEqual({ status: 0, signal: null, output: '' });
  });

  test('the process exits 0 after the worker, with a live started poller, is terminated', () => {
    const r = runInFreshProcess(
      `${load} poll.start(() => {}); parentPort.postMessage('started');`,
      `worker.once('message', () => worker.terminate());`,
    );
    expect(r).toEqual({ status: 0, signal: null, output: '' });
  });

  test('the process exits 0 when it exits while the worker still holds a poller', () => {
    const r = runInFreshProcess(
      `${load} poll.start(() => {}); parentPort.postMessage('started');`,
      `worker.once('message', () => process.exit(0));`,
    );
    expect(r).toEqual({ status: 0, signal: null, output: '' });
  });
});
