'use strict';
// Runs inside the device lab's VM (test/lab), as root, against real 16550A UARTs driven by the
// kernel's 8250 driver, wired as a null modem: /dev/ttyS1 <-> /dev/ttyS2. What a pty cannot show:
// every open option read back from the driver (data bits and parity included), update(), flush(),
// drain(), and the modem lines set and read back. Exits non-zero on the first failure.
//
//   test/lab/lab.sh run --serial null-modem -- node packages/serialport/test/lab/uart.cjs
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const dist = path.join(__dirname, '..', '..', 'dist');
const { SocketPollBinding, SerialPort } = require(dist);
const { serialAddon } = require(path.join(dist, 'native.js'));

const runtime = typeof Deno !== 'undefined' ? `Deno ${Deno.version.deno}` : process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
const A = process.env.UART_A || '/dev/ttyS1';
const B = process.env.UART_B || '/dev/ttyS2';
let passed = 0;

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
  } catch (err) {
    console.log(`not ok - ${name}\n${err && err.stack}`);
    process.exit(1);
  }
  passed++;
  console.log(`ok - ${name} (${Date.now() - start} ms)`);
}

/** busybox `stty -F dev -a` as a set of words, plus the speed. */
function stty(dev) {
  // (busybox stty also asks for the window size, which a UART refuses: stderr is dropped)
  const out = execFileSync('stty', ['-F', dev, '-a'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return { words: new Set(out.split(/[\s;]+/)), speed: Number((/speed (\d+) baud/.exec(out) || [])[1]), out };
}

function expectWords(dev, want) {
  const { words, out } = stty(dev);
  for (const w of want) assert.ok(words.has(w), `${dev}: stty lacks '${w}':\n${out}`);
}

async function exchange(a, b, size) {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 0x7f; // 7-bit safe
  const got = [];
  let have = 0;
  const reading = (async () => {
    const buf = Buffer.alloc(4096);
    while (have < size) {
      const { bytesRead } = await b.read(buf, 0, buf.length);
      got.push(Buffer.from(buf.subarray(0, bytesRead)));
      have += bytesRead;
    }
  })();
  await a.write(data);
  await reading;
  assert.ok(Buffer.concat(got).equals(data), `${size} bytes did not arrive intact`);
}

(async () => {
  console.log(`uart: ${A} <-> ${B} on ${runtime}, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`);
  const listed = (await SocketPollBinding.list()).map((p) => p.path);
  await step(`list(): ${listed.join(', ')}`, () => {
    assert.ok(listed.includes(A) && listed.includes(B), `list() lacks ${A} or ${B}`);
  });

  const cases = [
    [{ dataBits: 8, parity: 'none', stopBits: 1 }, ['cs8', '-parenb', '-cstopb']],
    [{ dataBits: 7, parity: 'even', stopBits: 1 }, ['cs7', 'parenb', '-parodd', '-cmspar', 'inpck']],
    [{ dataBits: 7, parity: 'odd', stopBits: 2 }, ['cs7', 'parenb', 'parodd', 'cstopb']],
    [{ dataBits: 6, parity: 'mark', stopBits: 1 }, ['cs6', 'parenb', 'parodd', 'cmspar']],
    [{ dataBits: 5, parity: 'space', stopBits: 2 }, ['cs5', 'parenb', '-parodd', 'cmspar', 'cstopb']],
    [{ rtscts: true }, ['crtscts']],
    [{ xon: true, xoff: true, xany: true }, ['ixon', 'ixoff', 'ixany']],
    [{ hupcl: false }, ['-hupcl']],
  ];
  for (const [options, want] of cases) {
    await step(`open ${JSON.stringify(options)} reads back as ${want.join(' ')}`, async () => {
      const port = await SocketPollBinding.open({ path: A, baudRate: 57600, ...options });
      assert.equal(stty(A).speed, 57600);
      expectWords(A, [...want, '-icanon', '-echo', '-opost', 'clocal', 'cread']);
      await port.close();
    });
  }

  await step('data both ways at 7E1 on both ends, 16 KiB each way', async () => {
    const a = await SocketPollBinding.open({ path: A, baudRate: 115200, dataBits: 7, parity: 'even' });
    const b = await SocketPollBinding.open({ path: B, baudRate: 115200, dataBits: 7, parity: 'even' });
    await Promise.all([exchange(a, b, 16384), exchange(b, a, 16384)]);
    await a.close();
    await b.close();
  });

  await step('update({ baudRate }) and getBaudRate() from the driver, standard and custom rates', async () => {
    const port = await SocketPollBinding.open({ path: A, baudRate: 9600 });
    assert.equal((await port.getBaudRate()).baudRate, 9600);
    for (const rate of [115200, 1200, 38400]) {
      await port.update({ baudRate: rate });
      assert.equal((await port.getBaudRate()).baudRate, rate);
      assert.equal(stty(A).speed, rate);
    }
    // A custom rate: termios2 BOTHER; the 8250 driver reports back the rate it set.
    await port.update({ baudRate: 31250 });
    const custom = (await port.getBaudRate()).baudRate;
    console.log(`  custom 31250 reads back as ${custom} (stty: speed ${stty(A).speed})`);
    assert.equal(custom, 31250);
    await port.close();
  });

  await step('flush() drops received input; drain() resolves with the transmitter empty', async () => {
    const a = await SocketPollBinding.open({ path: A, baudRate: 115200 });
    const b = await SocketPollBinding.open({ path: B, baudRate: 115200 });
    await a.write(Buffer.from('stale'));
    await a.drain();
    assert.equal(serialAddon().serialOutputPending(a.fd), 0);
    await new Promise((r) => setTimeout(r, 200));
    await b.flush();
    await a.write(Buffer.from('fresh'));
    const buf = Buffer.alloc(32);
    let text = '';
    while (text.length < 5) {
      const { bytesRead } = await b.read(buf, 0, 32);
      text += buf.toString('latin1', 0, bytesRead);
    }
    assert.equal(text, 'fresh');
    // A larger write, drained: nothing is left in the kernel's queue or the UART afterwards.
    const reader = (async () => {
      let n = 0;
      while (n < 8192) n += (await b.read(Buffer.alloc(4096), 0, 4096)).bytesRead;
    })();
    await a.write(Buffer.alloc(8192, 0x55));
    await a.drain();
    assert.equal(serialAddon().serialOutputPending(a.fd), 0);
    await reader;
    await a.close();
    await b.close();
  });

  await step('modem lines: DTR and RTS set and read back (TIOCMGET); CTS, DSR, DCD read; break on and off', async () => {
    const port = await SocketPollBinding.open({ path: A, baudRate: 9600 });
    const addon = serialAddon();
    const DTR = 16;
    const RTS = 32;
    for (const [dtr, rts] of [[false, false], [true, false], [false, true], [true, true]]) {
      await port.set({ dtr, rts });
      const bits = addon.serialGetModem(port.fd);
      assert.equal((bits & DTR) !== 0, dtr, `DTR should read ${dtr}`);
      assert.equal((bits & RTS) !== 0, rts, `RTS should read ${rts}`);
    }
    const status = await port.get();
    console.log(`  get(): ${JSON.stringify(status)}`);
    for (const k of ['cts', 'dsr', 'dcd']) assert.equal(typeof status[k], 'boolean');
    await port.set({ brk: true });
    await port.set({ brk: false });
    await port.close();
  });

  await step('SerialPort (the stream) over the null modem, and a locked second open', async () => {
    const port = await new Promise((resolve, reject) => {
      const p = new SerialPort({ path: A, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(p)));
    });
    await assert.rejects(SocketPollBinding.open({ path: A, baudRate: 9600 }), { code: 'EAGAIN' });
    const b = await SocketPollBinding.open({ path: B, baudRate: 115200 });
    const got = new Promise((resolve) => port.once('data', resolve));
    await b.write(Buffer.from('hello uart'));
    assert.equal(String(await got), 'hello uart');
    await b.close();
    await new Promise((resolve) => port.close(resolve));
  });

  console.log(`uart: ${passed} passed on ${runtime}`);
})();
