/** Scripts run in a fresh Node process, to see whether something keeps a process alive. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { HELPER_PATH } from './fds';

/** The built package (children load it as a user would). */
export const CORE_DIST = path.resolve(__dirname, '../../dist/index.js');

/** `require` lines for a child script: `core` (the built package) and `fds` (the test fd helper). */
export const CHILD_PRELUDE = `
  const core = require(${JSON.stringify(CORE_DIST)});
  const fds = require(${JSON.stringify(HELPER_PATH)});
`;

export interface ChildOutcome {
  /** The exit code, or `'alive'` when it still ran `aliveAfterMs` after its `ready` line (then it is killed). */
  outcome: number | 'alive';
  /** What it wrote to stdout. */
  stdout: string;
}

/**
 * Runs `script` (CommonJS) in a fresh Node process. The script writes a line `ready` to stdout once
 * its setup is done; liveness is timed from that line, not from spawn, so a slow start (e.g. under
 * qemu) does not count as being alive.
 */
export function runChildScript(script: string, aliveAfterMs: number, env: NodeJS.ProcessEnv = {}): Promise<ChildOutcome> {
  // SOCKETPOLL_TEST_NODE: how to start this Node when it runs under qemu (no binfmt handler here).
  const child = spawn(process.env.SOCKETPOLL_TEST_NODE ?? process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve) => {
    let stdout = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (timer === undefined && /^ready$/m.test(stdout)) {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve({ outcome: 'alive', stdout });
        }, aliveAfterMs);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ outcome: code ?? -1, stdout });
    });
  });
}
