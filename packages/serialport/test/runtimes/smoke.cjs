'use strict';
// The binding on any runtime (Node 20/22/24, Bun, Deno, the ARM Node builds under qemu), over socat
// pty pairs, without jest: SerialPort data both ways with backpressure, the readline parser, options
// read back, typed errors, close with I/O pending, the other end killed, and a port in a worker
// (also a worker terminated with its port open). Prints one line per check; exits 1 on a failure.
//
//   node packages/serialport/test/runtimes/smoke.cjs      bun …/smoke.cjs      deno run -A …/smoke.cjs
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { SerialPort, SocketPollBinding } = require('../../dist');
const { ReadlineParser } = require('@serialport/parser-readline');

const runtime = typeof Deno !== 'undefined' ? `Deno ${Deno.version.deno}` : process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-smoke-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let n = 0;
let passed = 0;

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

async function pair() {
  const i = n++;
  const a = path.join(dir, `a${i}`);
  const b = path.join(dir, `b${i}`);
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  children.add(proc);
  const exited = new Promise((r) => proc.once('exit', r)).then(() => children.delete(proc));
  for (let t = 0; !(fs.existsSync(a) && fs.existsSync(b)); t++) {
    if (t > 2000) throw new Error('socat made no pty pair');
    await sleep(5);
  }
  return { a, b, proc, kill: async (sig = 'SIGTERM') => { proc.kill(sig); await exited; } };
}

function peerOpen(p) {
  return fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
}

// The device end's I/O goes through the addon's plain read(2)/write(2) wrappers (a count or
// -errno): Deno's fs.writeSync on a non-blocking fd can write part of a buffer and then throw
// EAGAIN without saying how much went out.
const { readInto, writeFrom } = require('@socketpoll/core').loadBackend().addon;
const EAGAIN = -os.constants.errno.EAGAIN;

async function peerRead(fd, size) {
  const out = Buffer.alloc(size);
  let have = 0;
  for (let t = 0; have < size; t++) {
    const k = readInto(fd, out, have, size - have);
    if (k > 0) { have += k; continue; }
    if (k !== EAGAIN) throw new Error(`peer read: ${k}`);
    if (t > 20000) throw new Error(`peer read ${have} of ${size}`);
    await sleep(1);
  }
  return out;
}

async function peerWrite(fd, data) {
  for (let off = 0, t = 0; off < data.length; t++) {
    const k = writeFrom(fd, data, off, Math.min(4096, data.length - off));
    if (k > 0) { off += k; continue; }
    if (k !== EAGAIN) throw new Error(`peer write: ${k}`);
    if (t > 20000) throw new Error(`peer wrote ${off} of ${data.length}`);
    await sleep(1);
  }
}

function bytes(size, seed) {
  const b = Buffer.alloc(size);
  for (let i = 0, x = seed; i < size; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

function openStream(options) {
  return new Promise((resolve, reject) => {
    const port = new SerialPort(options, (err) => (err ? reject(err) : resolve(port)));
  });
}

async function check(name, fn) {
  const start = Date.now();
  await fn();
  passed++;
  console.log(`  ok ${name} (${Date.now() - start} ms)`);
}

async function main() {
  console.log(`serialport smoke on ${runtime} ${process.arch}, addon ${require('@socketpoll/core').loadBackend().addonPath}`);

  await check('SerialPort: 256 KiB each way at once, byte-exact, with backpressure', async () => {
    const p = await pair();
    const port = await openStream({ path: p.a, baudRate: 115200 });
    const peer = peerOpen(p.b);
    const SIZE = 256 * 1024;
    const toPort = bytes(SIZE, 1);
    const fromPort = bytes(SIZE, 2);
    const chunks = [];
    let got = 0;
    const inAll = new Promise((resolve) => port.on('data', (c) => { chunks.push(c); got += c.length; if (got >= SIZE) resolve(); }));
    let full = false;
    const writes = (async () => {
      for (let off = 0; off < SIZE; off += 16384) {
        if (!port.write(fromPort.subarray(off, off + 16384))) { full = true; await new Promise((r) => port.once('drain', r)); }
      }
    })();
    const [back] = await Promise.all([peerRead(peer, SIZE), peerWrite(peer, toPort), inAll, writes]);
    const recv = Buffer.concat(chunks);
    if (!recv.equals(toPort)) { let i = 0; while (i < SIZE && recv[i] === toPort[i]) i++; throw new Error(`port received other bytes: ${recv.length} bytes, first difference at ${i}`); }
    assert.ok(back.equals(fromPort), 'peer received other bytes');
    assert.ok(full, 'write() never returned false');
    await new Promise((r) => port.close(r));
    fs.closeSync(peer);
    await p.kill();
  });

  await check('lines through @serialport/parser-readline', async () => {
    const p = await pair();
    const port = await openStream({ path: p.a, baudRate: 9600 });
    const peer = peerOpen(p.b);
    const lines = [];
    const want = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    const done = new Promise((resolve) => port.pipe(new ReadlineParser()).on('data', (l) => { lines.push(l); if (lines.length === want.length) resolve(); }));
    await peerWrite(peer, Buffer.from(want.join('\n') + '\n'));
    await done;
    assert.deepEqual(lines, want);
    await new Promise((r) => port.close(r));
    fs.closeSync(peer);
    await p.kill();
  });

  await check('options read back: stty speed and stop bits, a custom rate through getBaudRate()', async () => {
    const p = await pair();
    const port = await SocketPollBinding.open({ path: p.a, baudRate: 57600, stopBits: 2 });
    const out = execFileSync('stty', ['-F', p.a, '-a'], { encoding: 'utf8' });
    assert.match(out, /speed 57600 baud/);
    assert.match(out, /(^|\s)cstopb/);
    if (process.env.SERIALPORT_SMOKE_QEMU) {
      // qemu-user passes ioctls through a table of its own, which has no TCGETS2/TCSETS2 (ENOSYS).
      await assert.rejects(port.update({ baudRate: 250000 }), { code: 'ENOSYS' });
      console.log('  (custom rate not checked: qemu-user does not translate TCSETS2; it ran natively on x64)');
    } else if (process.platform === 'linux') {
      await port.update({ baudRate: 250000 });
      assert.equal((await port.getBaudRate()).baudRate, 250000);
    }
    await port.close();
    await p.kill();
  });

  await check('bad input: typed errors naming the option; nothing opened', async () => {
    const p = await pair();
    await assert.rejects(SocketPollBinding.open({ path: p.a, baudRate: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /baudRate/ });
    await assert.rejects(SocketPollBinding.open({ path: p.a, baudRate: 9600, dataBits: 9 }), { code: 'ERR_INVALID_ARG_VALUE', message: /dataBits/ });
    await assert.rejects(SocketPollBinding.open({ path: p.a, baudRate: 9600, parity: 'foo' }), { code: 'ERR_INVALID_ARG_VALUE', message: /parity/ });
    await assert.rejects(SocketPollBinding.open({ path: path.join(dir, 'none'), baudRate: 9600 }), { code: 'ENOENT' });
    await assert.rejects(SocketPollBinding.open({ path: '/dev/null', baudRate: 9600 }), { code: 'ENOTTY' });
    const port = await SocketPollBinding.open({ path: p.a, baudRate: 9600 });
    await assert.rejects(SocketPollBinding.open({ path: p.a, baudRate: 9600 }), { code: 'EAGAIN' });
    await assert.rejects(port.set({ dtr: true }), { code: 'ENOTTY', message: /modem/ });
    await port.close();
    await p.kill();
  });

  await check('close() with a read and a write pending: both canceled', async () => {
    const p = await pair();
    const port = await SocketPollBinding.open({ path: p.a, baudRate: 115200 });
    // Nobody reads the other end: once the ptys and socat's buffer are full, the write waits.
    // (Not SIGSTOP on socat: Deno reports a stopped child as exited and then hangs.)
    const read = port.read(Buffer.alloc(8), 0, 8).catch((e) => e);
    let writeDone = false;
    const write = port.write(Buffer.alloc(2 * 1024 * 1024)).catch((e) => e).finally(() => { writeDone = true; });
    await sleep(100);
    assert.equal(writeDone, false, 'the write should still be waiting');
    await port.close();
    assert.equal((await read).canceled, true);
    assert.equal((await write).canceled, true);
    await p.kill();
  });

  await check('the other end killed mid-stream: one disconnection, then quiet', async () => {
    const p = await pair();
    const port = await openStream({ path: p.a, baudRate: 115200 });
    const peer = peerOpen(p.b);
    port.on('error', () => {});
    port.on('data', () => {});
    const closes = [];
    const closed = new Promise((resolve) => port.on('close', (err) => { closes.push(err); resolve(); }));
    await peerWrite(peer, bytes(8192, 3));
    await sleep(20);
    await p.kill('SIGKILL');
    await closed;
    const cpu = process.cpuUsage();
    await sleep(300);
    const used = process.cpuUsage(cpu);
    assert.equal(closes.filter((e) => e && e.disconnected).length, 1);
    assert.ok((used.user + used.system) / 1000 < 100, `busy after the disconnection: ${(used.user + used.system) / 1000} ms of CPU in 300 ms`);
    fs.closeSync(peer);
  });

  await check('a port in a worker thread; a worker terminated with its port open', async () => {
    const p = await pair();
    const peer = peerOpen(p.b);
    const worker = new Worker(path.join(__dirname, 'worker.cjs'), { workerData: { path: p.a } });
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await peerWrite(peer, Buffer.from('ping'));
    assert.equal((await peerRead(peer, 9)).toString(), 'echo:ping');
    await assert.rejects(SocketPollBinding.open({ path: p.a, baudRate: 9600 }), { code: 'EAGAIN' }); // the worker holds it
    await worker.terminate();
    let again;
    for (let t = 0; !again; t++) {
      try { again = await SocketPollBinding.open({ path: p.a, baudRate: 9600 }); } catch (err) { if (t > 100) throw err; await sleep(10); }
    }
    await again.close();
    fs.closeSync(peer);
    await p.kill();
  });

  console.log(`serialport smoke: ${passed} passed on ${runtime}`);
}

main().then(
  () => {}, // and the process exits by itself: nothing left keeps it alive
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
