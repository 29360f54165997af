/**
 * Whether a stream keeps the process alive: `ref()` (the default) while it waits on its fd, not when
 * `unref()`ed, paused or destroyed, like `net.Socket`. Each case is a fresh Node process (the real
 * event loop decides whether it exits), on a poller of each backend and on the shared default
 * poller, which counts its ref()ed streams.
 */
import { BACKENDS } from './helpers/backends';
import { CHILD_PRELUDE, type ChildOutcome, runChildScript } from './helpers/children';

/** How long a child must outlive its `ready` line to count as kept alive. */
const ALIVE_MS = 1000;
/** How long a child that should exit may take. */
const EXIT_MS = 5000;

interface Setup {
  label: string;
  /** The expression of the `poll` stream option in the child (`undefined`: the default poller). */
  poll: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs `body` in a child that has `core`, `fds`, `opts` (the stream options selecting the poller),
 * `poll` (that poller) and two socketpairs `[a, b]`, `[c, d]`. `body` writes `ready` when set up.
 */
function run(setup: Setup, body: string, aliveAfterMs: number): Promise<ChildOutcome> {
  const script = `${CHILD_PRELUDE}
    const { readableFrom, writableTo, duplexOf, defaultPoller, POLL_READ } = core;
    const given = ${setup.poll};
    const opts = given === undefined ? {} : { poll: given };
    const poll = given ?? defaultPoller();
    const [a, b] = fds.socketpair();
    const [c, d] = fds.socketpair();
    const ready = () => process.stdout.write('ready\\n');
    ${body}
  `;
  return runChildScript(script, aliveAfterMs, setup.env);
}

const GIVEN: Setup[] = BACKENDS.map((b) => ({
  label: `a given poller on ${b.label}`,
  poll: `new core.SocketPoll(${JSON.stringify(b.options)})`,
  env: {},
}));
// The default poller picks its backend like any `new SocketPoll()`: SOCKETPOLL_BACKEND selects it.
// The emulated kqueue is an addon file, which no environment variable selects: it runs the given-poller cases only.
const DEFAULT: Setup[] = BACKENDS.filter((b) => b.options.addonPath === undefined).map((b) => ({
  label: `the default poller on ${b.label}`,
  poll: 'undefined',
  env: { SOCKETPOLL_BACKEND: b.name },
}));

describe.each([...GIVEN, ...DEFAULT])('stream ref()/unref() on $label', (setup) => {
  test.concurrent('a stream waiting for data keeps the process alive', async () => {
    const { outcome } = await run(setup, `readableFrom(a, opts).resume(); ready();`, ALIVE_MS);
    expect(outcome).toBe('alive');
  });

  test.concurrent('an unref()ed stream waiting for data lets the process exit', async () => {
    const { outcome } = await run(setup, `readableFrom(a, opts).unref().resume(); ready();`, EXIT_MS);
    expect(outcome).toBe(0);
  });

  test.concurrent('an unref()ed stream still delivers while something else keeps the process alive', async () => {
    const { outcome, stdout } = await run(
      setup,
      `const input = readableFrom(a, opts).unref();
       const deadline = setTimeout(() => process.exit(7), 4000); // keeps the process alive until the data came
       input.on('data', (chunk) => {
         process.stdout.write('data ' + chunk + '\\n');
         clearTimeout(deadline); // now only the unref()ed stream is left: the process exits
       });
       ready();
       setTimeout(() => fds.write(b, 'hello'), 50);`,
      EXIT_MS,
    );
    expect(stdout).toContain('data hello\n');
    expect(outcome).toBe(0);
  });

  test.concurrent('ref() after unref() keeps the process alive again', async () => {
    const { outcome } = await run(setup, `readableFrom(a, opts).unref().ref().resume(); ready();`, ALIVE_MS);
    expect(outcome).toBe('alive');
  });

  test.concurrent('with one ref()ed and one unref()ed stream the process lives until the ref()ed one is destroyed', async () => {
    const { outcome, stdout } = await run(
      setup,
      `const kept = readableFrom(a, opts).resume();
       const background = readableFrom(c, opts).unref().resume();
       ready();
       setTimeout(() => {
         process.stdout.write('destroying\\n');
         kept.destroy();
         process.on('exit', () => process.stdout.write(background.destroyed ? 'background destroyed\\n' : 'background open\\n'));
       }, 300).unref(); // only the ref()ed stream can keep the process alive until then
       `,
      EXIT_MS,
    );
    expect(stdout).toContain('destroying\nbackground open\n');
    expect(outcome).toBe(0);
  });

  test.concurrent('a paused stream does not keep the process alive', async () => {
    const { outcome } = await run(
      setup,
      `const s = readableFrom(a, opts);
       s.once('data', () => { s.pause(); setImmediate(ready); }); // paused while flowing: the fd is no longer watched
       fds.write(b, 'x');`,
      EXIT_MS,
    );
    expect(outcome).toBe(0);
  });

  test.concurrent('a write waiting for room keeps the process alive, and not once unref()ed', async () => {
    const write = (unref: boolean): Promise<ChildOutcome> =>
      run(
        setup,
        `fds.fill(a); // nobody reads b: the write waits for POLL_WRITE
         const out = writableTo(a, opts)${unref ? '.unref()' : ''};
         out.write('more', () => process.exit(8)); // called once written: not while nobody reads
         ready();`,
        unref ? EXIT_MS : ALIVE_MS,
      );
    const [kept, released] = await Promise.all([write(false), write(true)]);
    expect(kept.outcome).toBe('alive');
    expect(released.outcome).toBe(0);
  });

  test.concurrent('a once() waiting on the same poller keeps the process alive while every stream is unref()ed', async () => {
    const { outcome } = await run(
      setup,
      `readableFrom(a, opts).unref().resume();
       duplexOf(c, opts).unref().resume();
       poll.once(d, POLL_READ).then(() => process.exit(9));
       ready();`,
      ALIVE_MS,
    );
    expect(outcome).toBe('alive');
  });
});

describe.each(GIVEN)('the poller\'s own ref() and unref() with streams on $label', (setup) => {
  test.concurrent('poll.unref() lets none of its streams keep the process alive', async () => {
    const { outcome } = await run(setup, `poll.unref(); readableFrom(a, opts).resume(); duplexOf(c, opts).resume(); ready();`, EXIT_MS);
    expect(outcome).toBe(0);
  });

  test.concurrent('once its streams are gone, a start()ed poller keeps the process alive again', async () => {
    const { outcome } = await run(
      setup,
      `const s = readableFrom(a, opts).unref().resume();
       s.destroy();
       s.on('close', () => {
         poll.add(c, POLL_READ);
         poll.start(() => process.exit(10));
         ready();
       });`,
      ALIVE_MS,
    );
    expect(outcome).toBe('alive');
  });
});
