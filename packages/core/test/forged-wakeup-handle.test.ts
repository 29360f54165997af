/**
 * A wakeup handle is plain data that may arrive through postMessage, IPC or JSON: wakeup() must
 * never load a file the handle names unless it is a socketpoll addon of this process. A forged
 * handle whose path names a `.js` file or a `.node` file that each write a marker on load is
 * refused with a typed error, and no marker appears. A worker that has not loaded socketpoll yet
 * still wakes a poller of the main thread with a genuine handle.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SocketPoll, wakeup } from '../src';
import { BACKENDS } from './helpers/backends';
import { thrown } from './helpers/thrown';

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-forged-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(BACKENDS)('forged wakeup handles on $label', (backend) => {
  test('a handle naming a .js file that writes a marker is refused and the file never runs', () => {
    const poll = new SocketPoll(backend.options);
    const marker = path.join(dir, `js-marker-${backend.name}`);
    const evil = path.join(dir, `evil-${backend.name}.js`);
    fs.writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    for (const addonPath of [evil, evil.replace(/\.js$/, ''), path.relative(process.cwd(), evil)]) {
      const err = thrown(() => wakeup({ addonPath, id: poll.wakeupHandle.id }));
      expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(err.message).toMatch(/nothing was loaded/);
    }
    poll.close();
    expect(fs.existsSync(marker)).toBe(false);
  });

  const cc = spawnSync('cc', ['--version']).status === 0;
  if (!cc) console.log('forged .node handle: skipped, no C compiler (cc) to build the marker library');
  (cc ? test : test.skip)('a handle naming a .node file whose load writes a marker is refused and the file is never loaded', () => {
    const poll = new SocketPoll(backend.options);
    const marker = path.join(dir, `node-marker-${backend.name}`);
    const src = path.join(dir, `evil-${backend.name}.c`);
    const lib = path.join(dir, `evil-${backend.name}.node`);
    fs.writeFileSync(
      src,
      `#include <stdio.h>\n__attribute__((constructor)) static void on_load(void) { FILE *f = fopen(${JSON.stringify(marker)}, "w"); if (f) fclose(f); }\n`,
    );
    const built = spawnSync('cc', ['-shared', '-fPIC', '-o', lib, src], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    const err = thrown(() => wakeup({ addonPath: lib, id: poll.wakeupHandle.id }));
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
    poll.close();
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readFileSync('/proc/self/maps', 'utf8')).not.toContain(lib);
  });

  test('a worker that has not loaded socketpoll wakes a poller of this thread with its genuine handle', async () => {
    const poll = new SocketPoll(backend.options);
    const worker = new Worker(
      `const { wakeup } = require(${JSON.stringify(CORE_DIST)});
       const { workerData, parentPort } = require('node:worker_threads');
       parentPort.postMessage(wakeup(JSON.parse(workerData)));`,
      { eval: true, workerData: JSON.stringify(poll.wakeupHandle) }, // through JSON, as plain data
    );
    const answer = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
    expect(answer).toBe(true);
    expect(poll.wait(1000)).toEqual([]); // woken: returns at once
    poll.close();
  });
});
