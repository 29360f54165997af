#!/usr/bin/env node
// A serial port, as a Node Duplex stream. socat makes a pair of pseudo-terminals that behave like
// a serial port and the modem at its other end; this script opens both like serial ports
// (O_RDWR | O_NOCTTY | O_NONBLOCK), plays the modem on one side ("AT" -> "OK") and talks to it
// from the other with duplexOf(): backpressure, 'drain' and end of input included.
//
//   node examples/streams/serial-port.js      (needs socat: apt-get install socat)
//
// With a real port: const fd = fs.openSync('/dev/ttyUSB0', O_RDWR | O_NOCTTY | O_NONBLOCK);
// configure speed and raw mode first (stty -F /dev/ttyUSB0 115200 raw -echo).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { duplexOf } = require('@socketpoll/core');

async function main() {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    console.log('serial-port: skipped, socat is not installed (apt-get install socat)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-'));
  const portPath = path.join(dir, 'ttyS-app');
  const modemPath = path.join(dir, 'ttyS-modem');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${portPath}`, `pty,raw,echo=0,link=${modemPath}`], { stdio: 'ignore' });
  while (!fs.existsSync(portPath) || !fs.existsSync(modemPath)) await new Promise((r) => setTimeout(r, 20));

  const flags = fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK;
  // autoClose: the streams own these fds and close them when destroyed.
  const port = duplexOf(fs.openSync(portPath, flags), { autoClose: true });
  const modem = duplexOf(fs.openSync(modemPath, flags), { autoClose: true });

  // The modem: answers each command line.
  readline.createInterface({ input: modem }).on('line', (line) => {
    const command = line.trim();
    modem.write(command === 'AT' ? 'OK\r\n' : command.startsWith('ATI') ? 'socketpoll modem 1.0\r\nOK\r\n' : 'ERROR\r\n');
  });

  // The application: sends commands, reads the replies line by line.
  const replies = readline.createInterface({ input: port, crlfDelay: Infinity })[Symbol.asyncIterator]();
  for (const command of ['AT', 'ATI', 'ATZZ']) {
    port.write(`${command}\r\n`);
    const answer = [];
    for (;;) {
      const { value } = await replies.next();
      answer.push(value);
      if (value === 'OK' || value === 'ERROR') break;
    }
    console.log(`${command} -> ${answer.join(' | ')}`);
  }

  // Bulk: 256 KiB one way; write() returns false once the buffers are full, 'drain' says when to go on.
  const blob = Buffer.alloc(256 * 1024, 0x55);
  let received = 0;
  modem.removeAllListeners('data');
  const done = new Promise((resolve) => {
    modem.on('data', (chunk) => {
      received += chunk.length;
      if (received >= blob.length) resolve();
    });
  });
  let waits = 0;
  for (let off = 0; off < blob.length; off += 16 * 1024) {
    if (!port.write(blob.subarray(off, off + 16 * 1024))) {
      waits++;
      await new Promise((r) => port.once('drain', r));
    }
  }
  await done;
  console.log(`bulk: ${received} bytes received, the writer waited for 'drain' ${waits} time(s)`);

  port.destroy();
  modem.destroy();
  socat.kill();
  await new Promise((r) => socat.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('serial-port: done');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
