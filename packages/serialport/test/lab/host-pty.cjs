'use strict';
// One end of a guest UART wired to a host pty (test/lab `--serial host-pty`): run as `guest` inside
// the VM on /dev/ttyS1 (a 16550A behind the 8250 driver) and as `host` on the pty QEMU made for it.
// A handshake first: the host sends R every 100 ms (the 8250 driver drops what arrives before the
// guest opens the port) until the guest answers A; the host then sends G. Each side skips what came
// before the byte it waits for (repeated Rs, what the line carried while it was being configured).
// Then each side sends 64 KiB (the guest right after its A, the host right after its G) while
// reading the other's 64 KiB, and checks every byte.
//
//   test/lab/lab.sh run --serial host-pty --host 'node packages/serialport/test/lab/host-pty.cjs host "$LAB_HOST_PTY"' \
//     -- node packages/serialport/test/lab/host-pty.cjs guest /dev/ttyS1
const assert = require('node:assert/strict');
const path = require('node:path');
const { SocketPollBinding } = require(path.join(__dirname, '..', '..', 'dist'));

const [role, device] = process.argv.slice(2);
const SIZE = 64 * 1024;
const READY = 0x52; // 'R', host -> guest
const ACK = 0x41; // 'A', guest -> host
const GO = 0x47; // 'G', host -> guest

function pattern(seed) {
  const b = Buffer.alloc(SIZE);
  let x = seed;
  for (let i = 0; i < SIZE; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function readExactly(port, size) {
  const out = Buffer.alloc(size);
  let have = 0;
  while (have < size) have += (await port.read(out, have, size - have)).bytesRead;
  return out;
}

(async () => {
  assert.ok(role === 'host' || role === 'guest', 'usage: host-pty.cjs host|guest <device>');
  const start = Date.now();
  const port = await SocketPollBinding.open({ path: device, baudRate: 115200 });
  const skipUntil = async (byte) => {
    let skipped = 0;
    while ((await readExactly(port, 1))[0] !== byte) skipped++;
    if (skipped) console.log(`${role}: skipped ${skipped} byte(s) before the handshake`);
  };
  const mine = pattern(role === 'host' ? 1 : 2);
  const theirs = pattern(role === 'host' ? 2 : 1);
  let got;
  if (role === 'host') {
    const retry = setInterval(() => port.write(Buffer.from([READY])).catch(() => {}), 100);
    await port.write(Buffer.from([READY]));
    await skipUntil(ACK);
    clearInterval(retry);
    await new Promise((r) => setTimeout(r, 120)); // a write of the retry timer may be in progress
    [got] = await Promise.all([readExactly(port, SIZE), port.write(Buffer.concat([Buffer.from([GO]), mine]))]);
  } else {
    await skipUntil(READY);
    await port.write(Buffer.from([ACK]));
    [got] = await Promise.all([skipUntil(GO).then(() => readExactly(port, SIZE)), port.write(mine)]);
  }
  assert.ok(got.equals(theirs), `${role}: the ${SIZE} bytes from the other side differ`);
  await port.drain();
  await port.close();
  console.log(`${role}: ${device} sent and received ${SIZE} bytes intact in ${Date.now() - start} ms`);
})().catch((err) => {
  console.error(`${role}: ${err && err.stack}`);
  process.exit(1);
});
