// Bad input: each a typed error naming the option (or saying what the path is), with nothing
// opened or leaked: the process's fd count is back where it was after every attempt.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { POLL_READ, SocketPoll } from '@socketpoll/core';
import { SerialPortError, SocketPollBinding, type SocketPollOpenOptions } from '../src';
import { describeWithSocat, openFds, openPeer, ptyPair } from './helpers/pty';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-bad-'));
const regular = path.join(tmp, 'file.txt');
fs.writeFileSync(regular, 'not a tty');

async function expectRefused(options: unknown, match: Record<string, unknown>): Promise<void> {
  const before = openFds();
  await expect(SocketPollBinding.open(options as SocketPollOpenOptions)).rejects.toMatchObject(match);
  expect(openFds()).toBe(before);
}

describe('paths that are not serial ports', () => {
  test.each([
    ['a path that does not exist', path.join(tmp, 'nothing-here'), 'ENOENT', /names nothing/],
    ['a directory', tmp, 'EISDIR', /directory/],
    ['/dev/null', '/dev/null', 'ENOTTY', /not a terminal/],
    ['a regular file', regular, 'ENOTTY', /not a terminal/],
  ])('%s', async (_name, p, code, message) => {
    const before = openFds();
    const err = await SocketPollBinding.open({ path: p, baudRate: 9600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerialPortError);
    expect(err).toMatchObject({ code, path: p, message: expect.stringMatching(message) });
    expect(openFds()).toBe(before);
  });
});

describeWithSocat('option values', () => {
  let pair: Awaited<ReturnType<typeof ptyPair>>;
  beforeAll(async () => {
    pair = await ptyPair();
  });
  afterAll(() => pair.kill());

  test.each([
    [{ baudRate: 0 }, 'ERR_OUT_OF_RANGE', '"baudRate"'],
    [{ baudRate: -1 }, 'ERR_OUT_OF_RANGE', '"baudRate"'],
    [{ baudRate: NaN }, 'ERR_OUT_OF_RANGE', '"baudRate"'],
    [{ baudRate: 1e12 }, 'ERR_OUT_OF_RANGE', '"baudRate"'],
    [{ baudRate: 9600.5 }, 'ERR_OUT_OF_RANGE', '"baudRate"'],
    [{ baudRate: '9600' }, 'ERR_INVALID_ARG_TYPE', '"baudRate"'],
    [{ baudRate: undefined }, 'ERR_INVALID_ARG_TYPE', '"baudRate"'],
    [{ dataBits: 9 }, 'ERR_INVALID_ARG_VALUE', "'dataBits'"],
    [{ dataBits: 4 }, 'ERR_INVALID_ARG_VALUE', "'dataBits'"],
    [{ stopBits: 3 }, 'ERR_INVALID_ARG_VALUE', "'stopBits'"],
    [{ stopBits: 1.5 }, 'ERR_INVALID_ARG_VALUE', "'stopBits'"],
    [{ parity: 'foo' }, 'ERR_INVALID_ARG_VALUE', "'parity'"],
    [{ parity: 1 }, 'ERR_INVALID_ARG_VALUE', "'parity'"],
    [{ rtscts: 'yes' }, 'ERR_INVALID_ARG_TYPE', '"rtscts"'],
    [{ xon: 1 }, 'ERR_INVALID_ARG_TYPE', '"xon"'],
    [{ xoff: null }, 'ERR_INVALID_ARG_TYPE', '"xoff"'],
    [{ xany: 'no' }, 'ERR_INVALID_ARG_TYPE', '"xany"'],
    [{ hupcl: 0 }, 'ERR_INVALID_ARG_TYPE', '"hupcl"'],
    [{ lock: 'true' }, 'ERR_INVALID_ARG_TYPE', '"lock"'],
    [{ poll: {} }, 'ERR_INVALID_ARG_TYPE', '"poll"'],
    [{ path: 42 }, 'ERR_INVALID_ARG_TYPE', '"path"'],
    [{ path: '' }, 'ERR_INVALID_ARG_VALUE', "'path'"],
  ])('%j', async (bad, code, name) => {
    await expectRefused({ path: pair.a, baudRate: 9600, ...bad }, { code, message: expect.stringContaining(name) });
  });

  test('options that are not an object', async () => {
    await expectRefused(undefined, { code: 'ERR_INVALID_ARG_TYPE' });
    await expectRefused('/dev/ttyS0', { code: 'ERR_INVALID_ARG_TYPE' });
  });

  test('a second open of a locked port', async () => {
    const first = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 });
    await expectRefused({ path: pair.a, baudRate: 9600 }, { code: 'EAGAIN', syscall: 'flock', message: expect.stringContaining('lock') });
    await first.close();
    const again = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 }); // the lock went with the close
    await again.close();
  });

  test('lock: false lets a second open through', async () => {
    const first = await SocketPollBinding.open({ path: pair.a, baudRate: 9600, lock: false });
    const second = await SocketPollBinding.open({ path: pair.a, baudRate: 9600, lock: false });
    await second.close();
    await first.close();
  });

  test('set() and get() of modem lines on a pty, which has none: a clear error', async () => {
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 });
    await expect(port.set({ dtr: true, rts: false })).rejects.toMatchObject({ code: 'ENOTTY', message: expect.stringContaining('no modem control lines') });
    await expect(port.get()).rejects.toMatchObject({ code: 'ENOTTY', message: expect.stringContaining('no modem control lines') });
    await expect(port.set({ dtr: 'on' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"dtr"') });
    await port.set({ brk: false }); // TIOCCBRK: a pty takes it
    await port.close();
  });

  test('read() and write() arguments, one of each at a time, and after close', async () => {
    const port = await SocketPollBinding.open({ path: pair.a, baudRate: 9600 });
    await expect(port.read('x' as never, 0, 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(port.read(Buffer.alloc(4), 0, 0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('"length"') });
    await expect(port.read(Buffer.alloc(4), 2, 3)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(port.write('x' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const pending = port.read(Buffer.alloc(4), 0, 4);
    await expect(port.read(Buffer.alloc(4), 0, 4)).rejects.toMatchObject({ code: 'ERR_SERIALPORT_BUSY' });
    await port.close();
    await expect(pending).rejects.toMatchObject({ canceled: true });
    await expect(port.read(Buffer.alloc(4), 0, 4)).rejects.toMatchObject({ canceled: true });
    await expect(port.write(Buffer.alloc(4))).rejects.toMatchObject({ canceled: true });
    await expect(port.close()).rejects.toMatchObject({ code: 'ERR_SERIALPORT_NOT_OPEN' });
    for (const call of [() => port.get(), () => port.set({}), () => port.flush(), () => port.drain(), () => port.getBaudRate()]) {
      await expect(call()).rejects.toMatchObject({ code: 'ERR_SERIALPORT_NOT_OPEN' });
    }
  });

  test('a poller that is start()ed by its owner, or holds fds of its own, is refused before anything opens', async () => {
    const started = new SocketPoll().start(() => {});
    await expectRefused({ path: pair.a, baudRate: 9600, poll: started }, { code: 'ERR_SOCKETPOLL_BUSY', message: expect.stringContaining("'poll'") });
    started.close();
    const busy = new SocketPoll();
    const other = openPeer(pair.b);
    busy.add(other, POLL_READ);
    await expectRefused({ path: pair.a, baudRate: 9600, poll: busy }, { code: 'ERR_SOCKETPOLL_BUSY' });
    busy.close();
    fs.closeSync(other);
    const closed = new SocketPoll();
    closed.close();
    await expectRefused({ path: pair.a, baudRate: 9600, poll: closed }, { code: 'ERR_SOCKETPOLL_CLOSED' });
  });
});
