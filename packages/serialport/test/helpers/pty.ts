/**
 * Pseudo-terminal pairs from socat standing in for a serial port and the device at its other end:
 * the port under test opens `a`; the test reads and writes `b` itself (a plain non-blocking fd).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SerialPort, type SerialPortOpenOptions, SocketPollBinding, type SocketPollOpenOptions, type SocketPollPort } from '../../src';

export interface PtyPair {
  a: string;
  b: string;
  proc: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export const haveSocat = (() => {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** `describe`, or `describe.skip` with the reason printed, when socat is missing. */
export function describeWithSocat(name: string, fn: () => void): void {
  if (haveSocat) {
    describe(name, fn);
  } else {
    // eslint-disable-next-line no-console
    console.log(`skipped "${name}": socat is not installed (apt-get install socat; .ci/run does)`);
    describe.skip(name, fn);
  }
}

let counter = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-pty-'));

export async function ptyPair(): Promise<PtyPair> {
  const n = counter++;
  const a = path.join(dir, `a${n}`);
  const b = path.join(dir, `b${n}`);
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(fs.existsSync(a) && fs.existsSync(b))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`socat did not create ${a} and ${b}`);
    await sleep(5);
  }
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    a,
    b,
    proc,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Opens the device end of a pair: a non-blocking fd. */
export function openPeer(p: string): number {
  return fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
}

/** What a test does with the port under test on `a`, the device end `b` open as `peer`, and the pair. */
export type PortTest<P> = (port: P, peer: number, pair: PtyPair) => Promise<void>;

async function withPortAndPeer<P>(open: (path: string) => Promise<P>, close: (port: P) => Promise<void>, run: PortTest<P>): Promise<void> {
  const pair = await ptyPair();
  try {
    const port = await open(pair.a);
    let peer: number | undefined;
    try {
      peer = openPeer(pair.b);
      await run(port, peer, pair);
    } finally {
      await close(port); // the port first, then the device end, as a test that passes closes them
      if (peer !== undefined) fs.closeSync(peer);
    }
  } finally {
    await pair.kill(); // also when the test failed: no socat is left behind
  }
}

/** Runs `run` on a SocketPollBinding port opened on a fresh pair with `options`; then closes the port, the peer and the pair. */
export function withBindingPort(options: Omit<SocketPollOpenOptions, 'path'>, run: PortTest<SocketPollPort>): Promise<void> {
  return withPortAndPeer((p) => SocketPollBinding.open({ ...options, path: p }), (port) => port.close(), run);
}

/** The same with a SerialPort stream. */
export function withSerialPort(options: Omit<SerialPortOpenOptions, 'path'>, run: PortTest<SerialPort>): Promise<void> {
  const open = (p: string) =>
    new Promise<SerialPort>((resolve, reject) => {
      const port: SerialPort = new SerialPort({ ...options, path: p }, (err) => (err ? reject(err) : resolve(port)));
    });
  const close = (port: SerialPort) => new Promise<void>((resolve, reject) => port.close((err) => (err ? reject(err) : resolve())));
  return withPortAndPeer(open, close, run);
}

/** The open fds of this process. */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** `stty -a` of a tty path, as a set of words (`-parenb`, `cstopb`, …) plus the speed line. */
export function stty(p: string): { words: Set<string>; speed: number } {
  const out = execFileSync('stty', ['-F', p, '-a'], { encoding: 'utf8' });
  const speed = Number(/speed (\d+) baud/.exec(out)?.[1] ?? NaN);
  return { words: new Set(out.split(/[\s;]+/)), speed };
}

/** Reads from a non-blocking fd until `count` bytes came (or `timeoutMs` passed). */
export async function readExactly(fd: number, count: number, timeoutMs = 30_000): Promise<Buffer> {
  const out = Buffer.alloc(count);
  let have = 0;
  const deadline = Date.now() + timeoutMs;
  while (have < count) {
    try {
      const n = fs.readSync(fd, out, have, count - have, null);
      if (n > 0) {
        have += n;
        continue;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    if (Date.now() > deadline) throw new Error(`read ${have} of ${count} bytes before the timeout`);
    await sleep(2);
  }
  return out;
}

/** Writes all of `data` to a non-blocking fd, waiting when the pty is full. */
export async function writeAll(fd: number, data: Buffer, timeoutMs = 30_000): Promise<void> {
  let off = 0;
  const deadline = Date.now() + timeoutMs;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, Math.min(4096, data.length - off));
      continue;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    if (Date.now() > deadline) throw new Error(`wrote ${off} of ${data.length} bytes before the timeout`);
    await sleep(2);
  }
}

/**
 * `size` deterministic pseudo-random bytes (SHAKE-256 of the seed), every byte value included (a raw
 * port must pass '\n' and '\r' untranslated): a lost, moved or rewritten byte shows.
 */
export function pattern(size: number, seed: number): Buffer {
  return createHash('shake256', { outputLength: size }).update(`pattern ${seed}`).digest();
}
