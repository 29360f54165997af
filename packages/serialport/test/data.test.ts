// Data through SerialPortStream with this binding over socat pty pairs: byte-exact both ways at
// once, backpressure, the readline parser, and many ports on one poller with no thread per port.
import { ReadlineParser } from '@serialport/parser-readline';
import { SocketPoll } from '@socketpoll/core';
import * as fs from 'node:fs';
import { SocketPollBinding } from '../src';
import { describeWithSocat, openPeer, pattern, ptyPair, readExactly, sleep, withBindingPort, withSerialPort, writeAll } from './helpers/pty';

function threads(): number {
  return fs.readdirSync('/proc/self/task').length;
}

describeWithSocat('data over a pty pair', () => {
  test('1 MiB each way at once, byte-exact', () =>
    withSerialPort({ baudRate: 115200 }, async (port, peer) => {
      const SIZE = 1 << 20;
      const toPort = pattern(SIZE, 1);
      const fromPort = pattern(SIZE, 2);
      const received: Buffer[] = [];
      let got = 0;
      const allIn = new Promise<void>((resolve) => {
        port.on('data', (chunk: Buffer) => {
          received.push(chunk);
          got += chunk.length;
          if (got >= SIZE) resolve();
        });
      });
      // The port writes 1 MiB in 16 KiB writes, honouring write() === false.
      let sawBackpressure = false;
      const portWrites = (async () => {
        for (let off = 0; off < SIZE; off += 16384) {
          if (!port.write(fromPort.subarray(off, off + 16384))) {
            sawBackpressure = true;
            await new Promise((resolve) => port.once('drain', resolve));
          }
        }
      })();
      const [peerGot] = await Promise.all([readExactly(peer, SIZE, 60_000), writeAll(peer, toPort, 60_000), allIn, portWrites]);
      expect(Buffer.concat(received).equals(toPort)).toBe(true);
      expect(peerGot.equals(fromPort)).toBe(true);
      expect(sawBackpressure).toBe(true);
  }));

  test('a write waits while the other end does not read, and completes when it does', () =>
    withBindingPort({ baudRate: 115200 }, async (port, peer, pair) => {
      pair.proc.kill('SIGSTOP'); // socat stops moving bytes: the pty fills up
      const data = pattern(256 * 1024, 3);
      let done = false;
      const write = port.write(data).then(() => {
        done = true;
      });
      await sleep(300);
      expect(done).toBe(false); // waiting for POLL_WRITE, not spinning and not dropping bytes
      pair.proc.kill('SIGCONT');
      const [got] = await Promise.all([readExactly(peer, data.length), write]);
      expect(got.equals(data)).toBe(true);
  }));

  test('lines through the readline parser', () =>
    withSerialPort({ baudRate: 9600 }, async (port, peer) => {
      const lines: string[] = [];
      const parser = port.pipe(new ReadlineParser({ delimiter: '\r\n' }));
      const want = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
      const allLines = new Promise<void>((resolve) =>
        parser.on('data', (line: string) => {
          lines.push(line);
          if (lines.length === want.length) resolve();
        }),
      );
      // Sent in uneven pieces, so lines are split across reads.
      const text = Buffer.from(want.map((l) => `${l}\r\n`).join(''));
      for (let off = 0; off < text.length; off += 37) {
        await writeAll(peer, text.subarray(off, off + 37));
        if (off % 370 === 0) await sleep(1);
      }
      await allLines;
      expect(lines).toEqual(want);
  }));

  test('100 ports on one poller, no thread per port', async () => {
    const poll = new SocketPoll();
    const pairs = [];
    for (let i = 0; i < 100; i++) pairs.push(await ptyPair());
    const before = threads();
    const ports = [];
    for (const pair of pairs) ports.push(await SocketPollBinding.open({ path: pair.a, baudRate: 115200, poll }));
    const peers = pairs.map((p) => openPeer(p.b));
    // Every port reads at once: 100 reads waiting on the one poller.
    const reads = ports.map((port) => port.read(Buffer.alloc(64), 0, 64));
    expect(poll.size).toBe(100);
    expect(poll.started).toBe(true);
    peers.forEach((fd, i) => fs.writeSync(fd, `port ${i}`));
    const results = await Promise.all(reads);
    results.forEach((r, i) => expect(r.buffer.toString('utf8', 0, r.bytesRead)).toBe(`port ${i}`));
    // And back.
    await Promise.all(ports.map((port, i) => port.write(Buffer.from(`back ${i}`))));
    for (let i = 0; i < 100; i++) expect((await readExactly(peers[i], `back ${i}`.length)).toString()).toBe(`back ${i}`);
    // The epoll backend delivers on the event loop: not one thread was added for 100 ports.
    if (poll.backendName === 'epoll' && poll.delivery === 'uvpoll') expect(threads()).toBe(before);
    else expect(threads()).toBeLessThanOrEqual(before + 1); // one helper thread for the poller, at most
    await Promise.all(ports.map((port) => port.close()));
    expect(poll.size).toBe(0);
    expect(poll.started).toBe(false); // given back to its owner
    peers.forEach((fd) => fs.closeSync(fd));
    await Promise.all(pairs.map((p) => p.kill()));
    poll.close();
  });
});
