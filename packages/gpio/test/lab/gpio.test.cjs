'use strict';
// @socketpoll/gpio against the kernel's gpio-sim driver (run inside the device lab, test/lab).
// The same file runs on Node, Bun and Deno, and inside a worker (GPIO_TEST_IN_WORKER=1).
//   node packages/gpio/test/lab/gpio.test.cjs
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { test, run } = require('./harness.cjs');
const sim = require('./sim.cjs');
const gpio = require('../..');
const { SocketPoll, POLL_READ } = require('@socketpoll/core');

const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : `node ${process.version}`;
const gc = typeof Bun !== 'undefined' ? () => Bun.gc(true) : globalThis.gc;

/** Collects `n` edge events of a request (or fails after `ms`). */
function nextEdges(req, n, ms = 5000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => {
      req.off('edge', on);
      reject(new Error(`timed out with ${got.length}/${n} events: ${JSON.stringify(got, big)}`));
    }, ms);
    function on(ev) {
      got.push(ev);
      if (got.length === n) {
        clearTimeout(timer);
        req.off('edge', on);
        resolve(got);
      }
    }
    req.on('edge', on);
  });
}
const big = (_k, v) => (typeof v === 'bigint' ? String(v) : v);
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

function assertOrdered(events) {
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i].timestampNs > events[i - 1].timestampNs, `timestamps increase: ${JSON.stringify(events, big)}`);
    assert.equal(events[i].seqno, events[i - 1].seqno + 1, 'seqnos follow each other');
  }
}

let chip;
test('setup: make a gpio-sim chip with 8 lines, two of them named', () => {
  chip = sim.makeChip({ lines: 8, names: { 0: 'BUTTON', 3: 'LED' }, label: `lab-${runtime.split(' ')[0]}-${process.pid}` });
});

test('list chips and read line info (names, consumer, direction, bias)', () => {
  const listed = gpio.listChips().find((c) => c.path === chip.path);
  assert.deepEqual(listed, { path: chip.path, name: chip.name, label: chip.label, lines: 8 });
  const c = gpio.openChip(chip.label);
  assert.equal(c.path, chip.path);
  assert.equal(gpio.openChip(chip.name).label, chip.label);
  assert.equal(gpio.openChip(chip.path).lines, 8);
  assert.equal(gpio.openChip(Number(chip.name.slice(8))).name, chip.name);
  const info = c.getLineInfo('LED');
  assert.equal(info.offset, 3);
  assert.equal(info.name, 'LED');
  assert.equal(info.used, false);
  const req = c.requestLines({ lines: ['LED'], direction: 'output', drive: 'open-drain', consumer: 'lab-led' });
  const held = c.getLineInfo(3);
  assert.equal(held.used, true);
  assert.equal(held.consumer, 'lab-led');
  assert.equal(held.direction, 'output');
  assert.equal(held.drive, 'open-drain');
  req.close();
  const inp = c.requestLines({ lines: [0], bias: 'pull-up', edge: 'both', debounceUs: 1000, eventClock: 'realtime' });
  const i0 = c.getLineInfo(0);
  assert.equal(i0.direction, 'input');
  assert.equal(i0.bias, 'pull-up');
  assert.equal(i0.edge, 'both');
  assert.equal(i0.eventClock, 'realtime');
  assert.equal(i0.debounceUs, 1000);
  inp.close();
  assert.equal(c.getLinesInfo().length, 8);
  assert.equal(c.getLinesInfo().filter((l) => l.used).length, 0, 'nothing left requested');
  c.close();
});

for (const edge of ['rising', 'falling', 'both']) {
  test(`input with edge '${edge}': events driven by the sim's pull, in order`, async () => {
    chip.setPull(1, 'pull-down');
    const req = gpio.requestLines(chip.path, { lines: [1], edge });
    const want = edge === 'both' ? ['rising', 'falling', 'rising', 'falling'] : [edge, edge];
    const got = nextEdges(req, want.length);
    for (let i = 0; i < 4; i++) chip.setPull(1, i % 2 === 0 ? 'pull-up' : 'pull-down');
    const events = await got;
    assert.deepEqual(events.map((e) => e.edge), want);
    assert.ok(events.every((e) => e.offset === 1 && e.missed === 0 && typeof e.timestampNs === 'bigint'));
    assert.equal(events[0].seqno, 1);
    assert.deepEqual(events.map((e) => e.lineSeqno), want.map((_, i) => i + 1));
    assertOrdered(events);
    // the monotonic clock: nanoseconds since boot (not wall time), so within /proc/uptime
    const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(Number(events[0].timestampNs) / 1e9 <= uptime + 1, `${events[0].timestampNs} ns is since boot (${uptime} s)`);
    await tick();
    assert.equal(req.getValue(1), 0);
    req.close();
  });
}

test('debounce: a burst of toggles within the period gives one settled edge', async () => {
  chip.setPull(2, 'pull-down');
  const req = gpio.requestLines(chip.path, { lines: [2], edge: 'both', debounceUs: 100_000 });
  const c = gpio.openChip(chip.path);
  assert.equal(c.getLineInfo(2).debounceUs, 100_000);
  c.close();
  const events = [];
  req.on('edge', (ev) => events.push(ev));
  for (let i = 0; i < 5; i++) chip.setPull(2, i % 2 === 0 ? 'pull-up' : 'pull-down'); // ends high
  await tick(600);
  assert.deepEqual(events.map((e) => e.edge), ['rising'], JSON.stringify(events, big));
  req.close();
});

test("eventClock 'realtime': timestamps on the wall clock", async () => {
  chip.setPull(2, 'pull-down');
  const req = gpio.requestLines(chip.path, { lines: [2], edge: 'rising', eventClock: 'realtime' });
  const got = nextEdges(req, 1);
  const before = BigInt(Date.now()) * 1_000_000n;
  chip.setPull(2, 'pull-up');
  const [ev] = await got;
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  assert.ok(ev.timestampNs >= before - 1_000_000n && ev.timestampNs <= after, `${ev.timestampNs} within [${before}, ${after}]`);
  req.close();
});

test('both edges on several lines of one request; lineSeqno per line', async () => {
  for (const o of [4, 5, 6]) chip.setPull(o, 'pull-down');
  const req = gpio.requestLines(chip.label, { lines: [4, 5, 6], edge: 'both', consumer: 'multi' });
  const got = nextEdges(req, 6);
  for (const o of [4, 5, 6]) chip.setPull(o, 'pull-up');
  for (const o of [6, 5, 4]) chip.setPull(o, 'pull-down');
  const events = await got;
  assert.deepEqual(events.map((e) => `${e.offset}:${e.edge}`), ['4:rising', '5:rising', '6:rising', '6:falling', '5:falling', '4:falling']);
  assert.deepEqual(events.map((e) => e.lineSeqno), [1, 1, 1, 2, 2, 2]);
  assertOrdered(events);
  assert.deepEqual(req.getValues(), [0, 0, 0]);
  req.close();
});

test('the async iterator form, ended by break and by close()', async () => {
  chip.setPull(2, 'pull-down');
  const req = gpio.requestLines(chip.path, { lines: [2], edge: 'both' });
  setTimeout(() => chip.setPull(2, 'pull-up'), 10);
  setTimeout(() => chip.setPull(2, 'pull-down'), 30);
  const seen = [];
  for await (const ev of req.events({ signal: AbortSignal.timeout(5000) })) {
    seen.push(ev.edge);
    if (seen.length === 2) break;
  }
  assert.deepEqual(seen, ['rising', 'falling']);
  const it = req[Symbol.asyncIterator]();
  const pending = it.next();
  req.close();
  assert.deepEqual(await pending, { value: undefined, done: true });
});

test('bias and active-low as seen through values', () => {
  const req = gpio.requestLines(chip.path, { lines: [1, 2], bias: 'pull-up' });
  assert.deepEqual(req.getValues(), [1, 1]);
  req.reconfigure({ bias: 'pull-down' });
  assert.deepEqual(req.getValues(), [0, 0]);
  req.reconfigure({}, { 2: { activeLow: true } });
  assert.deepEqual(req.getValues(), [0, 1]);
  assert.equal(req.getValue(2), 1);
  req.close();
});

test('outputs read back from the sim (initial values, setValues, active-low, reconfigure keeps the value)', () => {
  const req = gpio.requestLines(chip.path, { lines: [{ line: 'LED', value: 1 }, { line: 7, direction: 'output' }] });
  assert.equal(chip.value(3), 1);
  assert.equal(chip.value(7), 0);
  req.setValues({ 3: 0, 7: 1 });
  assert.equal(chip.value(3), 0);
  assert.equal(chip.value(7), 1);
  req.setValue(3, true);
  assert.deepEqual(req.getValues(), [1, 1]);
  req.reconfigure({}, { 7: { activeLow: true } });
  assert.equal(chip.value(7), 0, 'the logical 1 kept, driven low as active-low');
  assert.equal(req.getValue(7), 1);
  req.reconfigure({ direction: 'input', bias: 'pull-up' }, { 7: { activeLow: false } });
  assert.deepEqual(req.getValues(), [1, 1]);
  assert.throws(() => req.setValue(3, 1), { code: 'ERR_GPIO_INCOMPATIBLE_FLAGS' });
  req.reconfigure({ direction: 'output', value: 0 });
  assert.equal(chip.value(3), 0);
  req.close();
});

test('EBUSY between two requests names the consumer; nothing is left requested', () => {
  const a = gpio.requestLines(chip.path, { lines: [5], consumer: 'first-owner' });
  assert.throws(() => gpio.requestLines(chip.path, { lines: [4, 5], consumer: 'second' }), (err) => {
    assert.ok(err instanceof gpio.GpioBusyError);
    assert.equal(err.code, 'EBUSY');
    assert.equal(err.offset, 5);
    assert.equal(err.consumer, 'first-owner');
    assert.match(err.message, /first-owner/);
    return true;
  });
  const c = gpio.openChip(chip.path);
  assert.equal(c.getLineInfo(4).used, false, 'line 4 of the failed request is free');
  a.close();
  assert.equal(c.getLineInfo(5).used, false, 'released on close()');
  const again = c.requestLines({ lines: [5] });
  again.close();
  c.close();
});

test('typed errors for bad input, each naming what to fix, nothing left requested', () => {
  const c = gpio.openChip(chip.path);
  assert.throws(() => gpio.openChip('no-such-chip'), { code: 'ERR_GPIO_CHIP_NOT_FOUND', message: new RegExp(chip.label) });
  assert.throws(() => gpio.openChip('/dev/gpiochip99'), { code: 'ERR_GPIO_CHIP_NOT_FOUND' });
  assert.throws(() => c.requestLines({ lines: [8] }), { code: 'ERR_GPIO_OFFSET_OUT_OF_RANGE', message: /lines 0 to 7/ });
  assert.throws(() => c.requestLines({ lines: ['NOPE'] }), { code: 'ERR_GPIO_LINE_NOT_FOUND' });
  assert.throws(() => c.requestLines({ lines: [1], direction: 'output', edge: 'both' }), { code: 'ERR_GPIO_INCOMPATIBLE_FLAGS', message: /edge/ });
  assert.throws(() => c.requestLines({ lines: [1], direction: 'input', drive: 'open-drain' }), { code: 'ERR_GPIO_INCOMPATIBLE_FLAGS', message: /drive/ });
  assert.throws(() => c.requestLines({ lines: [1, 1] }), { code: 'ERR_GPIO_INCOMPATIBLE_FLAGS' });
  const req = c.requestLines({ lines: [1, 2] });
  assert.throws(() => req.getValues([3]), { code: 'ERR_GPIO_LINE_NOT_REQUESTED', message: /holds 1, 2/ });
  assert.throws(() => req.setValues({ 6: 1 }), { code: 'ERR_GPIO_LINE_NOT_REQUESTED' });
  req.close();
  assert.throws(() => req.getValues(), { code: 'ERR_GPIO_CLOSED' });
  assert.equal(c.getLinesInfo().filter((l) => l.used).length, 0);
  c.close();
});

test('a burst faster than the reader: the overflow is reported as a seqno gap, no crash', async () => {
  chip.setPull(6, 'pull-down');
  const req = gpio.requestLines(chip.path, { lines: [6], edge: 'both', eventBufferSize: 4 });
  const overflows = [];
  req.on('overflow', (o) => overflows.push(o));
  const events = [];
  req.on('edge', (ev) => events.push(ev));
  // 40 edges while this thread does not read (the writes are synchronous)
  for (let i = 0; i < 40; i++) chip.setPull(6, i % 2 === 0 ? 'pull-up' : 'pull-down');
  for (let i = 0; i < 100 && events.length < 4; i++) await tick(10);
  await tick(50);
  assert.ok(events.length >= 4 && events.length < 40, `got ${events.length} events`);
  const missed = events.reduce((n, e) => n + e.missed, 0);
  assert.ok(missed > 0, `the gap is reported on the events: ${JSON.stringify(events, big)}`);
  assert.equal(overflows.reduce((n, o) => n + o.missed, 0), missed);
  assert.equal(events.at(-1).seqno, 40, 'the kernel kept the newest events');
  assert.equal(events.length + missed, 40, 'read + missed = all edges');
  req.close();
});

test('the raw SocketPoll recipe on a line request fd', async () => {
  chip.setPull(7, 'pull-down');
  const req = gpio.requestLines(chip.path, { lines: [7], edge: 'rising' });
  const poll = new SocketPoll();
  const buf = new Uint8Array(48 * 16);
  try {
    const got = new Promise((resolve) => {
      poll.add(req.fd, POLL_READ);
      poll.start(() => {
        // readEach: read(2) in one native call (runtimes' fs may refuse an fd they did not open)
        const [n] = poll.readEach([req.fd], buf, buf.length);
        const view = new DataView(buf.buffer);
        resolve({ n, id: view.getUint32(8, true), offset: view.getUint32(12, true), seqno: view.getUint32(16, true) });
      });
    });
    chip.setPull(7, 'pull-up');
    assert.deepEqual(await got, { n: 48, id: 1, offset: 7, seqno: 1 });
  } finally {
    poll.close();
    req.close();
  }
});

test('the onoff-shaped Gpio: the documented examples', async () => {
  chip.setPull(0, 'pull-down');
  const led = new gpio.Gpio(3, 'out', { chip: chip.label });
  const button = new gpio.Gpio(0, 'in', 'both', { chip: chip.path, debounceTimeout: 0 });
  assert.equal(gpio.Gpio.accessible, true);
  assert.equal(gpio.Gpio.HIGH, 1);
  assert.equal(gpio.Gpio.LOW, 0);
  const values = [];
  const done = new Promise((resolve, reject) => {
    button.watch((err, value) => {
      if (err) return reject(err);
      led.writeSync(value);
      values.push(value);
      if (values.length === 2) resolve();
    });
  });
  chip.setPull(0, 'pull-up');
  await tick(30);
  assert.equal(chip.value(3), 1, 'the LED followed the button');
  chip.setPull(0, 'pull-down');
  await done;
  assert.deepEqual(values, [1, 0]);
  assert.equal(chip.value(3), 0);
  assert.equal(await button.read(), 0);
  await new Promise((resolve, reject) => led.write(1, (err) => (err ? reject(err) : resolve())));
  assert.equal(led.readSync(), 1);
  assert.equal(led.direction(), 'out');
  assert.equal(button.direction(), 'in');
  assert.equal(button.edge(), 'both');
  button.setEdge('rising');
  assert.equal(button.edge(), 'rising');
  assert.equal(button.activeLow(), false);
  button.setActiveLow(true);
  assert.equal(button.readSync(), 1);
  button.setActiveLow(false);
  led.setDirection('in');
  assert.equal(led.direction(), 'in');
  led.setDirection('high');
  assert.equal(chip.value(3), 1);
  assert.throws(() => led.setEdge('both'), { code: 'ERR_GPIO_INCOMPATIBLE_FLAGS' });
  assert.throws(() => new gpio.Gpio(3, 'in', { chip: chip.path }), { code: 'EBUSY', message: /onoff/ });
  button.unwatchAll();
  led.unexport();
  button.unexport();
  assert.throws(() => led.readSync(), { code: 'ERR_GPIO_CLOSED' });
  assert.throws(() => new gpio.Gpio(0, 'in'), { code: 'ERR_GPIO_CHIP_NOT_FOUND', message: /pinctrl-bcm2711/ });
  const c = gpio.openChip(chip.path);
  assert.equal(c.getLinesInfo().filter((l) => l.used).length, 0);
  c.close();
});

test('garbage collection releases a dropped request; a watched one stays until unwatched', async () => {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc (Node), --v8-flags=--expose-gc (Deno)');
  const c = gpio.openChip(chip.path);
  const collect = async () => {
    for (let i = 0; i < 10; i++) {
      gc();
      await tick(20);
    }
  };
  (() => {
    gpio.requestLines(chip.path, { lines: [4] });
  })();
  assert.equal(c.getLineInfo(4).used, true);
  await collect();
  assert.equal(c.getLineInfo(4).used, false, 'the dropped request was released');

  chip.setPull(5, 'pull-down');
  let edges = 0;
  const onEdge = () => edges++;
  let weak;
  (() => {
    const req = gpio.requestLines(chip.path, { lines: [5], edge: 'rising' });
    req.on('edge', onEdge);
    weak = new WeakRef(req);
  })();
  await collect();
  assert.equal(c.getLineInfo(5).used, true, 'a watched request stays alive');
  chip.setPull(5, 'pull-up');
  for (let i = 0; i < 50 && edges === 0; i++) await tick(10);
  assert.equal(edges, 1, 'and still delivers');
  weak.deref().off('edge', onEdge);
  await collect();
  assert.equal(c.getLineInfo(5).used, false, 'released once unwatched and dropped');
  c.close();
});

test('a chip removed under a watched request: one error, watching stops, no spin', async () => {
  const other = sim.makeChip({ lines: 2 });
  const req = gpio.requestLines(other.path, { lines: [0], edge: 'both' });
  const errors = [];
  req.on('error', (err) => errors.push(err));
  req.on('edge', () => {});
  await tick(20);
  other.remove();
  for (let i = 0; i < 100 && errors.length === 0; i++) await tick(10);
  const cpu0 = process.cpuUsage();
  await tick(300);
  const cpu = process.cpuUsage(cpu0);
  assert.equal(errors.length, 1, `one error: ${errors.map(String)}`);
  assert.ok(errors[0] instanceof gpio.GpioSystemError, String(errors[0]));
  assert.ok((cpu.user + cpu.system) / 1000 < 150, `idle after the error (${(cpu.user + cpu.system) / 1000} ms CPU in 300 ms)`);
  req.close();
});

test('teardown: remove the chip', () => {
  chip.remove();
  assert.equal(fs.existsSync(chip.path), false);
});

module.exports = { run: () => run(`gpio on ${runtime}${require('node:worker_threads').isMainThread ? '' : ' (worker)'}`) };

if (require.main === module) {
  if (!sim.available()) {
    console.log('# skipped: no gpio-sim configfs here (run it inside the device lab: test/lab/lab.sh run -- node ...)');
    process.exit(0);
  }
  if (process.env.GPIO_TEST_IN_WORKER) {
    const { Worker } = require('node:worker_threads');
    const w = new Worker(`require(${JSON.stringify(__filename)}).run().then((ok) => { process.exitCode = ok ? 0 : 1; })`, { eval: true });
    w.on('exit', (code) => process.exit(code));
    w.on('error', (err) => {
      console.log(`not ok - the worker threw: ${err && err.stack}`);
      process.exit(1);
    });
  } else {
    run(`gpio on ${runtime}`).then((ok) => process.exit(ok ? 0 : 1));
  }
}
