'use strict';
// What every conformance script shares: which core and backend to test, real fds from FIFOs (no
// native test helper, so it runs wherever the runtime runs, also under qemu), how to spawn this
// runtime again, and a tiny test runner that prints `N passed, N failed`.
//
// Configuration (arguments win over the environment):
//   --backend epoll|poll|kqueue   SOCKETPOLL_CONFORMANCE_BACKEND   a backend by name (the loader's packages)
//   --addon <file.node>           SOCKETPOLL_CONFORMANCE_ADDON     an addon file instead (e.g. the kqueue emulation)
//   --core <dist/index.js>        SOCKETPOLL_CONFORMANCE_CORE      default: this package's dist
//   SOCKETPOLL_TEST_NODE  how to start this runtime for child processes, as words separated by spaces
//                         (e.g. `qemu-aarch64-static -L /usr/aarch64-linux-gnu /opt/node/bin/node`);
//                         default: process.execPath (plus `run -A` on Deno)
//   SOCKETPOLL_DELIVERY   uvpoll|thread, passed on to core (and to child processes)
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const openFifo = require('./fifo.cjs');

function option(flag, envName) {
  const i = process.argv.indexOf(flag);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[envName] || undefined;
}

const corePath = path.resolve(option('--core', 'SOCKETPOLL_CONFORMANCE_CORE') ?? path.join(__dirname, '../../dist/index.js'));
const backendName = option('--backend', 'SOCKETPOLL_CONFORMANCE_BACKEND');
const addonPath = option('--addon', 'SOCKETPOLL_CONFORMANCE_ADDON');
const core = require(corePath);
/** SocketPoll constructor options that select the backend under test. */
const pollOptions = addonPath ? { addonPath: path.resolve(addonPath) } : backendName ? { backend: backendName } : {};

const isDeno = typeof globalThis.Deno !== 'undefined' || Boolean(process.versions.deno);
/** argv prefix that starts this runtime on a script. */
function runtimeCommand() {
  const custom = process.env.SOCKETPOLL_TEST_NODE;
  if (custom) return custom.split(' ').filter(Boolean);
  return isDeno ? [process.execPath, 'run', '-A'] : [process.execPath];
}

/** Runs `script` (a file next to this one) in a new process of this runtime. */
function spawnRuntime(script, args = [], timeoutMs = 15000) {
  const [cmd, ...pre] = runtimeCommand();
  const started = Date.now();
  const r = spawnSync(cmd, [...pre, path.join(__dirname, script), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, SOCKETPOLL_CONFORMANCE_CORE: corePath, SOCKETPOLL_CONFORMANCE_OPTIONS: JSON.stringify(pollOptions) },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - started, error: r.error };
}

const opened = new Set();
/** A FIFO's [read end, write end] (fifo.cjs), closed after each test. */
function fifo() {
  const [r, w] = openFifo();
  opened.add(r);
  opened.add(w);
  return [r, w];
}

function write(fd, text = 'x') {
  return fs.writeSync(fd, Buffer.from(text));
}

/** Reads what is there (non-blocking); '' when nothing is. */
function read(fd) {
  const buf = Buffer.alloc(65536);
  try {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    return buf.subarray(0, n).toString();
  } catch (err) {
    if (err && err.code === 'EAGAIN') return '';
    throw err;
  }
}

function close(fd) {
  if (opened.delete(fd)) fs.closeSync(fd);
}

function closeAll() {
  for (const fd of [...opened]) close(fd);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class AssertionError extends Error {}
function check(cond, message) {
  if (!cond) throw new AssertionError(message);
}
function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new AssertionError(`${what}: expected ${e}, got ${a}`);
}
async function throwsCode(fn, code, what) {
  try {
    await fn();
  } catch (err) {
    if (err && err.code === code) return err;
    throw new AssertionError(`${what}: expected code ${code}, got ${err && (err.code ?? err.message)}`);
  }
  throw new AssertionError(`${what}: expected an error with code ${code}, nothing was thrown`);
}

const tests = [];
/** Registers a test; `skip` (a string) says why it does not run here. */
function test(name, fn, skip) {
  tests.push({ name, fn, skip });
}

async function run(title) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  console.log(`# ${title}`);
  for (const t of tests) {
    if (t.skip) {
      skipped++;
      console.log(`  skip ${t.name}: ${t.skip}`);
      continue;
    }
    let timer;
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new AssertionError('timed out after 15 s')), 15000);
        }),
      ]);
      passed++;
      console.log(`  ok   ${t.name}`);
    } catch (err) {
      failed++;
      console.log(`  FAIL ${t.name}: ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err}`);
    } finally {
      clearTimeout(timer);
      closeAll();
    }
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

module.exports = {
  core, corePath, pollOptions, backendName, addonPath, isDeno,
  spawnRuntime, fifo, write, read, close, sleep, check, equal, throwsCode, test, run,
};
