/**
 * Pseudo-terminal pairs made by socat, standing in for a serial port and the device at its other
 * end: `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B` copies bytes between two ptys, and each
 * link is opened like a serial port (`O_RDWR | O_NOCTTY | O_NONBLOCK`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Whether socat is installed (Debian: `apt-get install socat`). */
export const HAVE_SOCAT = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

export interface SocatPair {
  /** The two ends, opened O_RDWR | O_NOCTTY | O_NONBLOCK. */
  readonly a: number;
  readonly b: number;
  readonly pathA: string;
  readonly pathB: string;
  /** Stops socat and closes both ends (idempotent). */
  close(): Promise<void>;
}

/** Starts socat and opens both ptys once their links exist. */
export async function socatPair(): Promise<SocatPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-socat-'));
  const pathA = path.join(dir, 'A');
  const pathB = path.join(dir, 'B');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${pathA}`, `pty,raw,echo=0,link=${pathB}`], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (!(fs.existsSync(pathA) && fs.existsSync(pathB))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`socat did not make ${pathA} and ${pathB}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const flags = fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK;
  const a = fs.openSync(pathA, flags);
  const b = fs.openSync(pathB, flags);
  let closed = false;
  return {
    a,
    b,
    pathA,
    pathB,
    async close() {
      if (closed) return;
      closed = true;
      for (const fd of [a, b]) {
        try {
          fs.closeSync(fd);
        } catch {
          // closed by the test (autoClose)
        }
      }
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
