/**
 * The stream examples (examples/streams/*.js) run as a user runs them, against the built package,
 * on each backend the environment can select (SOCKETPOLL_BACKEND); their output is checked.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BACKENDS } from './helpers/backends';

const EXAMPLES = path.resolve(__dirname, '../../../examples/streams');
const selectable = BACKENDS.filter((b) => b.options.backend !== undefined);

function run(file: string, backend: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(EXAMPLES, file)], {
    cwd: EXAMPLES,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SOCKETPOLL_BACKEND: backend },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(selectable)('stream examples ($label)', ({ name }) => {
  test('serial-port.js: AT commands over a socat pty pair, then bulk with drain', () => {
    const r = run('serial-port.js', name);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    if (r.stdout.includes('skipped')) return console.log(r.stdout.trim());
    expect(r.stdout).toContain('AT -> OK');
    expect(r.stdout).toContain('ATI -> socketpoll modem 1.0 | OK');
    expect(r.stdout).toContain('ATZZ -> ERROR');
    expect(r.stdout).toMatch(/bulk: 262144 bytes received, the writer waited for 'drain' [1-9]\d* time/);
  });

  test('fifo.js: eight FIFOs read to end of file while the thread pool stays free', () => {
    const r = run('fifo.js', name);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toContain('while 8 FIFOs wait: immediate');
    for (let i = 0; i < 8; i++) expect(r.stdout).toContain(`sensor ${i}: 3 readings, then end of file`);
  });

  test('tun.js: an IP packet read from a TUN device and one written into it', () => {
    const r = run('tun.js', name);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    if (r.stdout.includes('skipped')) return console.log(r.stdout.trim());
    expect(r.stdout).toMatch(/IPv4\/UDP packet 10\.250\.77\.1 -> 10\.250\.77\.2:7777, payload "ping"/);
    expect(r.stdout).toContain('the socket received "pong" from 10.250.77.2:7777');
  });
});
