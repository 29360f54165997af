/**
 * The flags in src/flags.ts are the numbers of include/poll/SocketPoll.h: checked against the
 * `constants` each addon exports (which the binding takes from the C header).
 */
import * as flags from '../src/flags';
import { loadBackend } from '../src/loader';
import { BACKENDS } from './helpers/backends';

describe.each(BACKENDS)('flags on $label', (backend) => {
  const { constants } = loadBackend(backend.options).addon;

  test('every POLL_* flag in flags.ts has the addon\'s value, and the addon has no other', () => {
    const ours = Object.entries(flags).filter(([name]) => /^POLL_[A-Z]+$/.test(name) && name !== 'POLL_ALL');
    const theirs = Object.entries(constants).filter(([name]) => name.startsWith('POLL_'));
    expect(Object.fromEntries(ours)).toEqual(
      Object.fromEntries(theirs.filter(([name]) => !['POLL_EDGE', 'POLL_ONESHOT', 'POLL_UNPOLLABLE_READY', 'POLL_EXACT_EVENTS'].includes(name))),
    );
  });

  test('mode, unpollable and supports bits match the addon', () => {
    expect(flags.UNPOLLABLE_READY_BIT).toBe(constants.POLL_UNPOLLABLE_READY);
    expect(flags.EXACT_EVENTS_BIT).toBe(constants.POLL_EXACT_EVENTS);
    expect(flags.MODE_BITS).toEqual({ level: 0, edge: constants.POLL_EDGE, oneshot: constants.POLL_ONESHOT });
    expect(flags.SUPPORTS_BITS).toEqual({
      level: constants.SUPPORTS_LEVEL,
      edge: constants.SUPPORTS_EDGE,
      oneshot: constants.SUPPORTS_ONESHOT,
    });
  });

  test('POLL_ALL is every interest and readiness flag except the output-only POLL_INVALID', () => {
    const all = ['POLL_READ', 'POLL_WRITE', 'POLL_ERROR', 'POLL_HANGUP', 'POLL_PRIORITY', 'POLL_RDHUP'];
    expect(flags.POLL_ALL).toBe(all.reduce((acc, name) => acc | constants[name], 0));
    expect(flags.POLL_ALL & constants.POLL_INVALID).toBe(0);
  });
});
