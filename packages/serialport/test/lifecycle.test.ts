// Closing with I/O in flight, the other end going away mid-stream, and ports in worker threads.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SerialPort, SocketPollBinding } from '../src';
import { describeWithSocat, openFds, openPeer, pattern, ptyPair, sleep } from './helpers/pty';

const dist = path.join(__dirname, '..', 'dist', 'index.js');

describeWithSocat('close and disconnection', () => {
  test('close() with a read and a write pending: both rejected with canceled, nothing left registered', async () => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 115200 });
    pair.proc.kill('SIGSTOP'); // the pty fills: the write stays pending
    const read = port.read(Buffer.alloc(16), 0, 16).catch((e: unknown) => e);
    const write = port.write(Buffer.alloc(512 * 1024, 1)).catch((e: unknown) => e);
    await sleep(100);
    await port.close();
    expect(await read).toMatchObject({ canceled: true, code: 'ERR_SERIALPORT_CANCELED' });
    expect(await write).toMatchObject({ canceled: true, code: 'ERR_SERIALPORT_CANCELED' });
    expect(port.isOpen).toBe(false);
    expect(port.fd).toBe(-1);
    pair.proc.kill('SIGCONT');
    await pair.kill();
  });

  test('the other end killed mid-stream: the stream closes with a disconnection, once, no spin, fds back to baseline', async () => {
    const baseline = openFds();
    const pair = await ptyPair();
    const peer = openPeer(pair.b);
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path: pair.a, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(p)));
    });
    let received = 0;
    port.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const errors: Error[] = [];
    port.on('error', (err) => errors.push(err));
    const closes: unknown[] = [];
    const closed = new Promise<void>((resolve) =>
      port.on('close', (err: unknown) => {
        closes.push(err);
        resolve();
      }),
    );
    // Both directions busy when the other end goes.
    const writer = setInterval(() => port.write(pattern(4096, 9)), 1);
    const data = pattern(64 * 1024, 5);
    for (let i = 0; i < 4; i++) {
      try {
        fs.writeSync(peer, data);
      } catch {
        /* full */
      }
      await sleep(10);
    }
    expect(received).toBeGreaterThan(0);
    await pair.kill('SIGKILL');
    await closed;
    clearInterval(writer);
    // The binding reports the disconnection once: one 'close' with a DisconnectedError. (A write
    // that failed with it also destroys the Duplex, which emits a plain 'close' of its own.)
    const disconnections = () => closes.filter((c) => (c as { disconnected?: boolean } | undefined)?.disconnected === true);
    expect(disconnections()).toHaveLength(1);
    expect(port.isOpen).toBe(false);
    // No spin: the process is idle after the disconnection.
    const cpu = process.cpuUsage();
    await sleep(500);
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeLessThan(150);
    expect(disconnections()).toHaveLength(1);
    fs.closeSync(peer);
    expect(openFds()).toBe(baseline);
    void errors; // write errors after the close, if any, are reported on 'error'; none is required
  });

  test('a read on a port whose other end is gone rejects as a disconnection, and keeps rejecting', async () => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 });
    const read = port.read(Buffer.alloc(8), 0, 8).catch((e: unknown) => e);
    await pair.kill('SIGKILL');
    const err = await read;
    expect(err).toMatchObject({ disconnected: true, code: 'EIO' });
    expect((err as { canceled?: boolean }).canceled).toBeUndefined();
    await expect(port.read(Buffer.alloc(8), 0, 8)).rejects.toMatchObject({ disconnected: true });
    await expect(port.write(Buffer.from('x'))).rejects.toMatchObject({ disconnected: true });
    await port.close();
  });
});

describeWithSocat('keeping the process alive', () => {
  // A child process: opens the port; `read` says whether it then waits for one read.
  const child = (portPath: string, read: boolean) => {
    const code = `
      const { SocketPollBinding } = require(${JSON.stringify(dist)});
      SocketPollBinding.open({ path: process.argv[1], baudRate: 9600 }).then(async (port) => {
        console.log('open');
        if (${read}) {
          const { bytesRead, buffer } = await port.read(Buffer.alloc(8), 0, 8);
          console.log('read ' + buffer.toString('utf8', 0, bytesRead));
          await port.close();
        }
      });`;
    const proc = spawn(process.execPath, ['-e', code, portPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    return { proc, exited, output: () => out };
  };

  test('an open port with no read or write in progress does not keep the process alive', async () => {
    const pair = await ptyPair();
    const c = child(pair.a, false);
    expect(await c.exited).toBe(0);
    expect(c.output()).toBe('open\n');
    await pair.kill();
  });

  test('a read in progress keeps it alive until the read completes', async () => {
    const pair = await ptyPair();
    const peer = openPeer(pair.b);
    const c = child(pair.a, true);
    while (!c.output().includes('open')) await sleep(10);
    await sleep(300);
    expect(c.proc.exitCode).toBeNull(); // still waiting for data
    fs.writeSync(peer, 'data');
    expect(await c.exited).toBe(0);
    expect(c.output()).toBe('open\nread data\n');
    fs.closeSync(peer);
    await pair.kill();
  });
});

describeWithSocat('worker threads', () => {
  const workerCode = (mode: 'roundtrip' | 'hold') => `
    const { parentPort, workerData } = require('node:worker_threads');
    const { SerialPort } = require(${JSON.stringify(dist)});
    const port = new SerialPort({ path: workerData.path, baudRate: 115200 }, (err) => {
      if (err) throw err;
      ${mode === 'roundtrip' ? "port.once('data', (d) => { port.write(Buffer.concat([Buffer.from('echo:'), d]), () => port.close(() => parentPort.postMessage('closed'))); }); parentPort.postMessage('open');" : "parentPort.postMessage('open'); port.on('data', () => {});"}
    });
  `;

  test('a port in a worker: open, read, write, close', async () => {
    if (!fs.existsSync(dist)) throw new Error('build first (pnpm build): the worker loads dist/');
    const pair = await ptyPair();
    const peer = openPeer(pair.b);
    const worker = new Worker(workerCode('roundtrip'), { eval: true, workerData: { path: pair.a } });
    const messages: string[] = [];
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const closed = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: string) => {
        messages.push(m);
        if (m === 'open') fs.writeSync(peer, 'hi');
        if (m === 'closed') resolve();
      });
    });
    await closed;
    const buf = Buffer.alloc(16);
    let n = 0;
    for (let i = 0; i < 100 && n < 7; i++) {
      try {
        n += fs.readSync(peer, buf, n, 16 - n, null);
      } catch {
        await sleep(5);
      }
    }
    expect(buf.toString('utf8', 0, n)).toBe('echo:hi');
    expect(await exited).toBe(0); // the worker exits by itself: its closed port keeps nothing alive
    fs.closeSync(peer);
    await pair.kill();
  });

  test('a worker terminated with a port open: its fd is closed and the lock released', async () => {
    const pair = await ptyPair();
    const before = openFds();
    const worker = new Worker(workerCode('hold'), { eval: true, workerData: { path: pair.a } });
    await new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m) => m === 'open' && resolve());
    });
    await expect(SocketPollBinding.open({ path: pair.a, baudRate: 9600 })).rejects.toMatchObject({ code: 'EAGAIN' }); // held by the worker
    await worker.terminate();
    await sleep(50);
    expect(openFds()).toBeLessThanOrEqual(before);
    const again = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 });
    await again.close();
    await pair.kill();
  });
});
