import { constants as os } from 'node:os';
import { POLL_READ, SocketPoll } from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

const E = os.errno;

describe.each(BACKENDS)('batched I/O (readEach / writeEach) on $label', (backend) => {
  let poll: SocketPoll<number>;
  beforeEach(() => {
    poll = new SocketPoll<number>({ ...backend.options, maxEvents: 64 });
  });
  afterEach(() => poll.close());

  test('readEach reads every ready fd of a batch into its own chunk in one call', () => {
    const pairs = Array.from({ length: 5 }, () => fds.socketpair());
    pairs.forEach(([a], i) => poll.add(a, POLL_READ, i));
    pairs.forEach(([, b], i) => fds.write(b, `message-${i}`));
    const events = poll.wait(1000);
    expect(events).toHaveLength(5);
    const buf = Buffer.alloc(5 * 32);
    const n = poll.readEach(events.map((e) => e.fd), buf, 32);
    events.forEach((e, i) => {
      expect(n[i]).toBe(`message-${e.data}`.length);
      expect(buf.toString('utf8', i * 32, i * 32 + n[i])).toBe(`message-${e.data}`);
    });
    expect(poll.wait(0)).toEqual([]); // drained
  });

  test('readEach reports EAGAIN, end of file, a chunk-sized partial read and cancelled entries per fd', () => {
    const [empty] = fds.socketpair();
    const [eof, gone] = fds.socketpair();
    fds.close(gone);
    const [big, bigPeer] = fds.socketpair();
    fds.write(bigPeer, 'abcdefghij');
    const results = new Int32Array(8).fill(123);
    const buf = Buffer.alloc(4 * 4);
    const out = poll.readEach(Int32Array.of(empty, eof, big, -1), buf, 4, results);
    expect(out).toBe(results); // reused
    expect(Array.from(out.subarray(0, 4))).toEqual([-E.EAGAIN, 0, 4, -E.EBADF]);
    expect(out[4]).toBe(123); // untouched beyond the batch
    expect(buf.toString('utf8', 8, 12)).toBe('abcd');
    expect(fds.read(big)).toBe('efghij'); // the rest is still there
  });

  test('writeEach writes each chunk to its fd and reports EAGAIN and EPIPE per fd', () => {
    const [a, aPeer] = fds.socketpair();
    const [b, bPeer] = fds.socketpair();
    const [full] = fds.socketpair();
    fds.fill(full);
    const [r, w] = fds.pipe();
    fds.close(r);
    const buf = Buffer.from('one.two.xxx.yyy.');
    const out = poll.writeEach([a, b, full, w], buf, 4, [3, 4, 1, 1]);
    expect(Array.from(out)).toEqual([3, 4, -E.EAGAIN, -E.EPIPE]);
    expect(fds.read(aPeer)).toBe('one');
    expect(fds.read(bPeer)).toBe('two.');
  });

  test('bad arguments are Node-style errors and nothing is read', () => {
    const [a, b] = fds.socketpair();
    fds.write(b, 'keep');
    const p = poll as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => p.readEach.call(poll, 'x', Buffer.alloc(8), 4)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => p.readEach.call(poll, [a], 'buf', 4)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => poll.readEach([a], Buffer.alloc(8), 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => poll.readEach([a, a, a], Buffer.alloc(8), 4)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => poll.readEach([a], Buffer.alloc(8), 4, new Int32Array(0))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => poll.writeEach([a], Buffer.alloc(8), 4, [])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(fds.read(a)).toBe('keep');
  });
});
