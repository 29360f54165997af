/**
 * The process and the garbage collector: an Epoll keeps the process alive only while it has
 * registered fds, is not collected while it has them (the original's no-gc-allowed test), is
 * collectable after close(); the package works when first loaded in worker threads, many at once.
 */
import { child, DIST, fds } from './helpers';

test('the process stays alive while an fd is registered, and exits once the last one is removed', () => {
  const r = child(`
    const [a] = fds.socketpair(0);
    const epoll = new Epoll(() => {});
    epoll.add(a, Epoll.EPOLLIN);
    // An unref()ed timer does not hold the process itself: only the registration does.
    setTimeout(() => { epoll.remove(a); console.log('removed'); }, 400).unref();
  `);
  expect(r.output.trim()).toBe('removed');
  expect(r.status).toBe(0);
  expect(r.ms).toBeGreaterThanOrEqual(400);
});

test('an Epoll without registered fds does not hold the process, nor one whose fds were all removed or closed', () => {
  const r = child(`
    const [a] = fds.socketpair(0);
    const idle = new Epoll(() => {});
    const used = new Epoll(() => {}).add(a, Epoll.EPOLLIN).remove(a);
    const closed = new Epoll(() => {}).add(a, Epoll.EPOLLIN);
    closed.close();
    setTimeout(() => console.log('still running'), 3000).unref();
  `);
  expect(r.status).toBe(0);
  expect(r.output).toBe('');
});

test('an Epoll with registered fds is not garbage-collected: it still calls back after forced collections', () => {
  const r = child(
    `
    const [a, b] = fds.socketpair(0);
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    (function watch() {
      // No reference to the Epoll is kept by this program.
      const epoll = new Epoll((err, fd) => { fds.read(fd); epoll.remove(fd); console.log('called back, collected: ' + collected); });
      registry.register(epoll, 'epoll');
      epoll.add(a, Epoll.EPOLLIN);
    })();
    (async () => {
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      fds.write(b, 'x');
    })();
  `,
    { args: ['--expose-gc'] },
  );
  expect(r.output.trim()).toBe('called back, collected: false');
  expect(r.status).toBe(0);
});

test('an Epoll whose fds were removed is collectable: nothing of it is held', () => {
  const r = child(
    `
    const [a] = fds.socketpair(0);
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    (function use() {
      const epoll = new Epoll(() => {});
      registry.register(epoll, 'epoll');
      epoll.add(a, Epoll.EPOLLIN).remove(a);
    })();
    (async () => {
      for (let i = 0; i < 20 && !collected; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log('collected: ' + collected);
    })();
  `,
    { args: ['--expose-gc'] },
  );
  expect(r.output.trim()).toBe('collected: true');
  expect(r.status).toBe(0);
});

test('first loaded in worker threads, four at once: each gets its events, and the process exits cleanly', () => {
  // The main thread never loads the package: each worker is the first to.
  const worker = `
    const { parentPort } = require('node:worker_threads');
    const { Epoll } = require(${JSON.stringify(DIST)});
    const fds = require(${JSON.stringify(fds.HELPER_PATH)});
    const [a, b] = fds.socketpair(0);
    const epoll = new Epoll((err, fd, events) => {
      fds.read(fd);
      epoll.remove(fd).close();
      parentPort.postMessage(events);
    });
    epoll.add(a, Epoll.EPOLLIN);
    fds.write(b, 'x');
  `;
  const r = child(
    `
    const { Worker } = require('node:worker_threads');
    const got = [];
    for (let i = 0; i < 4; i++) {
      const w = new Worker(${JSON.stringify(worker)}, { eval: true });
      w.on('message', (m) => got.push(m));
      w.on('error', (e) => { console.log('worker error: ' + e.message); process.exitCode = 1; });
    }
    process.on('exit', () => console.log(JSON.stringify(got)));
  `,
    { bare: true },
  );
  expect(r.signal).toBeNull();
  expect(r.output.trim()).toBe(JSON.stringify([1, 1, 1, 1]));
  expect(r.status).toBe(0);
});
