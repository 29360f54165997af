// What can be checked without a GPIO chip: settings validation, the structures' bytes, event
// decoding (seqno gaps), and the errors for chips that are not there. The kernel side runs in the
// device lab (test/lab/gpio.test.cjs).
import { decodeEvent, decodeLineInfo, encodeConfig, encodeRequest, FLAG, lineFlags, OFFSETS, SIZES, ATTR } from '../../src/abi';
import { ChipNotFoundError, Gpio, IncompatibleFlagsError, openChip, listChips } from '../../src';
import { addon } from '../../src/native';

const LINE = 'line 1 of gpiochip0';

describe('settings validation (the kernel rules, before any ioctl)', () => {
  test.each([
    [{ direction: 'output', edge: 'both' }, /edge 'both' on line 1 of gpiochip0, which is an output/],
    [{ direction: 'as-is', edge: 'rising' }, /edge events need direction 'input'/],
    [{ direction: 'input', drive: 'open-drain' }, /drive 'open-drain' on line 1 of gpiochip0, which is not an output/],
    [{ direction: 'as-is', bias: 'pull-up' }, /bias needs direction 'input' or 'output'/],
    [{ direction: 'output', debounceUs: 10 }, /debouncing applies to direction 'input'/],
    [{ direction: 'input', value: 1 }, /only outputs take an initial value/],
    [{ eventClock: 'realtime' }, /reports no edges/],
    [{ edge: 'up' }, /edge of line 1 of gpiochip0 must be one of 'none', 'rising', 'falling', 'both'/],
    [{ bias: 'pullup' }, /bias of .* must be one of/],
    [{ debounceUs: -1 }, /debounceUs .* integer number of microseconds/],
    [{ debounceUs: 1.5 }, /debounceUs/],
    [{ direction: 'output', value: 2 }, /must be 0, 1, false or true/],
    [{ activeLow: 'yes' }, /activeLow .* true or false/],
  ])('%j is refused', (settings, message) => {
    expect(() => lineFlags(settings as never, LINE)).toThrow(IncompatibleFlagsError);
    expect(() => lineFlags(settings as never, LINE)).toThrow(message);
    try {
      lineFlags(settings as never, LINE);
    } catch (err) {
      expect((err as IncompatibleFlagsError).code).toBe('ERR_GPIO_INCOMPATIBLE_FLAGS');
    }
  });

  test('flags of good settings', () => {
    expect(lineFlags({}, LINE)).toBe(FLAG.INPUT);
    expect(lineFlags({ value: 1 }, LINE)).toBe(FLAG.OUTPUT);
    expect(lineFlags({ edge: 'both', bias: 'pull-up', activeLow: true, eventClock: 'realtime' }, LINE)).toBe(
      FLAG.INPUT | FLAG.EDGE_RISING | FLAG.EDGE_FALLING | FLAG.BIAS_PULL_UP | FLAG.ACTIVE_LOW | FLAG.EVENT_CLOCK_REALTIME,
    );
    expect(lineFlags({ direction: 'output', drive: 'open-source', bias: 'disabled' }, LINE)).toBe(FLAG.OUTPUT | FLAG.OPEN_SOURCE | FLAG.BIAS_DISABLED);
    expect(lineFlags({ direction: 'as-is' }, LINE)).toBe(0);
  });
});

describe('structures', () => {
  test('the sizes and offsets match the addon compiled for this machine', () => {
    const abi = addon().gpioAbi;
    expect(abi.sizes).toEqual(SIZES);
    expect(abi.offsets).toEqual(OFFSETS);
  });

  test('a request: offsets, consumer, default flags and attributes (flags, output values, debounce) with masks by index', () => {
    const b = encodeRequest(
      [17, 4, 9],
      'doorbell',
      [{ edge: 'both', debounceUs: 5000 }, { edge: 'both', debounceUs: 5000 }, { direction: 'output', value: 1 }],
      ['a', 'b', 'c'],
      0,
    );
    const v = new DataView(b.buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true)]).toEqual([17, 4, 9]);
    expect(Buffer.from(b.subarray(OFFSETS.requestConsumer, OFFSETS.requestConsumer + 8)).toString()).toBe('doorbell');
    expect(v.getUint32(OFFSETS.requestNumLines, true)).toBe(3);
    const c = OFFSETS.requestConfig;
    expect(Number(v.getBigUint64(c, true))).toBe(FLAG.INPUT | FLAG.EDGE_RISING | FLAG.EDGE_FALLING);
    expect(v.getUint32(c + 8, true)).toBe(3);
    const attr = (k: number) => ({
      id: v.getUint32(c + OFFSETS.configAttrs + k * 24, true),
      value: v.getBigUint64(c + OFFSETS.configAttrs + k * 24 + 8, true),
      mask: v.getBigUint64(c + OFFSETS.configAttrs + k * 24 + 16, true),
    });
    expect(attr(0)).toEqual({ id: ATTR.FLAGS, value: BigInt(FLAG.OUTPUT), mask: 0b100n });
    expect(attr(1)).toEqual({ id: ATTR.OUTPUT_VALUES, value: 0b100n, mask: 0b100n });
    expect(attr(2)).toEqual({ id: ATTR.DEBOUNCE, value: 5000n, mask: 0b011n });
  });

  test('more than 10 different settings groups in one request is refused', () => {
    const settings = Array.from({ length: 12 }, (_, i) => ({ direction: 'input' as const, debounceUs: i + 1 }));
    expect(() => encodeConfig(settings, settings.map((_, i) => `line ${i}`), new Uint8Array(SIZES.lineConfig))).toThrow(/at most 10/);
  });

  test('line info decoding', () => {
    const b = new Uint8Array(SIZES.lineInfo);
    b.set(Buffer.from('LED'), 0);
    b.set(Buffer.from('app'), 32);
    const v = new DataView(b.buffer);
    v.setUint32(OFFSETS.lineInfoOffset, 3, true);
    v.setUint32(OFFSETS.lineInfoOffset + 4, 1, true);
    v.setBigUint64(OFFSETS.lineInfoFlags, BigInt(FLAG.USED | FLAG.INPUT | FLAG.EDGE_FALLING | FLAG.BIAS_PULL_DOWN | FLAG.ACTIVE_LOW), true);
    v.setUint32(OFFSETS.lineInfoAttrs, ATTR.DEBOUNCE, true);
    v.setUint32(OFFSETS.lineInfoAttrs + 8, 2500, true);
    expect(decodeLineInfo(b)).toEqual({
      offset: 3, name: 'LED', consumer: 'app', used: true, direction: 'input', activeLow: true, bias: 'pull-down',
      drive: 'push-pull', edge: 'falling', eventClock: 'monotonic', debounceUs: 2500,
    });
  });

  test('events: edge, timestamp as bigint, and a seqno gap reported as missed', () => {
    const b = new Uint8Array(SIZES.lineEvent * 2);
    const v = new DataView(b.buffer);
    const put = (i: number, ts: bigint, id: number, offset: number, seqno: number, lineSeqno: number) => {
      v.setBigUint64(i * 48, ts, true);
      v.setUint32(i * 48 + 8, id, true);
      v.setUint32(i * 48 + 12, offset, true);
      v.setUint32(i * 48 + 16, seqno, true);
      v.setUint32(i * 48 + 20, lineSeqno, true);
    };
    put(0, 1_000_000_123n, 1, 17, 1, 1);
    put(1, 2_000_000_000n, 2, 17, 5, 5);
    const a = decodeEvent(b, 0, 0);
    expect(a).toEqual({ offset: 17, edge: 'rising', timestampNs: 1_000_000_123n, seqno: 1, lineSeqno: 1, missed: 0 });
    expect(decodeEvent(b, 48, a.seqno)).toEqual({ offset: 17, edge: 'falling', timestampNs: 2_000_000_000n, seqno: 5, lineSeqno: 5, missed: 3 });
    expect(decodeEvent(b, 0, 0).missed).toBe(0);
  });
});

describe('chips that are not there', () => {
  test('openChip names what there is', () => {
    expect(() => openChip('no-such-label')).toThrow(ChipNotFoundError);
    expect(() => openChip('/dev/gpiochip4242')).toThrow(/no GPIO chip '\/dev\/gpiochip4242': the chips here are/);
    expect(() => openChip(-1)).toThrow(ChipNotFoundError);
    expect(() => openChip('')).toThrow(ChipNotFoundError);
  });

  test('a file that is not a chip', () => {
    expect(() => openChip('/dev/null')).toThrow(expect.objectContaining({ code: 'ENOTTY', syscall: 'ioctl', message: expect.stringMatching(/not a GPIO chip/) }));
  });

  test('Gpio without a chip option looks for the Raspberry Pi chip and says how to choose another', () => {
    if (listChips().some((c) => c.label.startsWith('pinctrl-'))) return; // a Raspberry Pi: nothing to check here
    expect(() => new Gpio(17, 'in')).toThrow(/no Raspberry Pi GPIO chip .* Pass \{ chip: /);
  });

  test('Gpio argument checks come before any chip is opened', () => {
    expect(() => new Gpio(17, 'sideways' as never, { chip: '/dev/null' })).toThrow(/direction must be 'in', 'out', 'high' or 'low'/);
    expect(() => new Gpio(17, 'in', 'up' as never, { chip: '/dev/null' })).toThrow(/edge must be/);
    expect(() => new Gpio(17, 'in', 'both', { chip: '/dev/null', debounceTimeout: -5 })).toThrow(/debounceTimeout/);
    expect(() => new Gpio(17, 'out', 'both', { chip: '/dev/null' })).toThrow(/edges are reported on inputs/);
  });
});
