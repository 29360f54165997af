// Every open option and update({ baudRate }), read back from the driver: `stty -F` on the port's
// path (tcgetattr in another process) and getBaudRate() (TCGETS2). A Linux pty keeps the speed,
// the stop bits, flow control and hupcl, but forces cs8 and clears parenb (drivers/tty/pty.c): data
// bits and parity are read back on a real UART (test/lab).
import * as fs from 'node:fs';
import { SocketPollBinding } from '../src';
import { describeWithSocat, ptyPair, stty, withBindingPort } from './helpers/pty';

const linux = process.platform === 'linux';

describeWithSocat('open options read back from the driver', () => {
  test('defaults: raw, 8N1, no flow control, hupcl, lock', async () => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 });
    expect(port.openOptions).toEqual({
      path: pair.a, baudRate: 9600, dataBits: 8, lock: true, stopBits: 1, parity: 'none',
      rtscts: false, xon: false, xoff: false, xany: false, hupcl: true,
    });
    const { words, speed } = stty(pair.a);
    expect(speed).toBe(9600);
    for (const w of ['-icanon', '-echo', '-isig', '-iexten', '-opost', '-icrnl', '-ixon', '-ixoff', '-ixany', '-cstopb', '-crtscts', 'hupcl', 'cs8', 'cread', 'clocal', 'min', '1']) {
      expect(words).toContain(w);
    }
    expect((await port.getBaudRate()).baudRate).toBe(9600);
    await port.close();
    await pair.kill();
  });

  test.each([
    [{ stopBits: 2 as const }, ['cstopb']],
    [{ rtscts: true }, ['crtscts']],
    [{ xon: true }, ['ixon', '-ixoff', '-ixany']],
    [{ xoff: true }, ['ixoff', '-ixon']],
    [{ xany: true }, ['ixany']],
    [{ hupcl: false }, ['-hupcl']],
    [{ parity: 'even' }, []], // accepted and applied; the pty clears parenb (see the lab run)
    [{ dataBits: 7 as const }, []], // likewise cs7 -> cs8 on a pty
  ])('%j', async (extra, want) => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 19200, ...extra });
    const { words, speed } = stty(pair.a);
    expect(speed).toBe(19200);
    for (const w of want) expect(words).toContain(w);
    expect(port.openOptions).toMatchObject(extra);
    await port.close();
    await pair.kill();
  });

  test.each([50, 300, 9600, 57600, 115200, 230400, 460800, 921600, 1000000, 4000000])('standard rate %d', async (rate) => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: rate });
    expect(stty(pair.a).speed).toBe(rate);
    expect((await port.getBaudRate()).baudRate).toBe(rate);
    await port.close();
    await pair.kill();
  });

  (linux ? test : test.skip)('a custom rate (termios2 BOTHER) at open and through update(), read back with TCGETS2', async () => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 250000 });
    expect((await port.getBaudRate()).baudRate).toBe(250000);
    expect(stty(pair.a).speed).toBe(0); // stty prints "speed 0 baud" for a BOTHER rate
    await port.update({ baudRate: 31250 }); // MIDI
    expect((await port.getBaudRate()).baudRate).toBe(31250);
    await port.update({ baudRate: 115200 }); // back to a standard rate: tcgetattr sees it again
    expect((await port.getBaudRate()).baudRate).toBe(115200);
    expect(stty(pair.a).speed).toBe(115200);
    expect(port.openOptions.baudRate).toBe(115200);
    await port.close();
    await pair.kill();
  });

  test('update() with a bad rate is a typed error naming baudRate, and changes nothing', async () => {
    const pair = await ptyPair();
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 38400 });
    for (const bad of [0, -1, NaN, 1e12, 1.5]) {
      await expect(port.update({ baudRate: bad })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('"baudRate"') });
    }
    await expect(port.update({ baudRate: '9600' as unknown as number })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect((await port.getBaudRate()).baudRate).toBe(38400);
    await port.close();
    await expect(port.update({ baudRate: 9600 })).rejects.toMatchObject({ code: 'ERR_SERIALPORT_NOT_OPEN' });
    await pair.kill();
  });

  test('flush() discards input not read yet', () =>
    withBindingPort({ baudRate: 115200 }, async (port, peer) => {
      fs.writeSync(peer, 'stale');
      await new Promise((r) => setTimeout(r, 150)); // socat relays them into the port's input queue
      await port.flush();
      fs.writeSync(peer, 'fresh');
      const r = await port.read(Buffer.alloc(32), 0, 32);
      expect(r.buffer.toString('utf8', 0, r.bytesRead)).toBe('fresh');
  }));

  test('drain() waits for the write in progress', () =>
    withBindingPort({ baudRate: 115200 }, async (port, peer, pair) => {
      pair.proc.kill('SIGSTOP');
      const order: string[] = [];
      const write = port.write(Buffer.alloc(200 * 1024, 7)).then(() => order.push('write'));
      const drain = port.drain().then(() => order.push('drain'));
      await new Promise((r) => setTimeout(r, 200));
      expect(order).toEqual([]); // neither: the write cannot finish while the pty is full
      pair.proc.kill('SIGCONT');
      const reader = (async () => {
        const buf = Buffer.alloc(65536);
        let total = 0;
        while (total < 200 * 1024) {
          try {
            total += fs.readSync(peer, buf);
          } catch {
            await new Promise((r) => setTimeout(r, 2));
          }
        }
      })();
      await Promise.all([write, drain, reader]);
      expect(order).toEqual(['write', 'drain']);
  }));
});
