#!/usr/bin/env node
// Reading FIFOs without parking a thread-pool thread per FIFO. fs.createReadStream() on a FIFO
// holds one of libuv's 4 pool threads in a blocking read() for as long as the FIFO is open; five
// quiet FIFOs stall every fs call of the process. readableFrom() waits on the poller instead.
//
//   node examples/streams/fifo.js
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { readableFrom } = require('@socketpoll/core');

const FIFOS = 8;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fifos-'));
  const files = [];
  for (let i = 0; i < FIFOS; i++) {
    const file = path.join(dir, `sensor-${i}`);
    spawnSync('mkfifo', [file]);
    files.push(file);
  }
  // Open every read end non-blocking (no writer needed yet) and wrap it; the stream closes it at the end.
  const streams = files.map((file) => readableFrom(fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), { autoClose: true }));

  // While all of them wait, the thread pool is free: an fs call completes at once.
  const t0 = process.hrtime.bigint();
  await fs.promises.readFile(__filename);
  console.log(`fs.promises.readFile while ${FIFOS} FIFOs wait: ${Number(process.hrtime.bigint() - t0) / 1e6 < 1000 ? 'immediate' : 'slow'}`);

  // Writers: one child process per FIFO writes three readings, then closes (the reader sees end of file).
  for (const [i, file] of files.entries()) {
    spawn(process.execPath, ['-e', `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'w');for(let n=1;n<=3;n++)fs.writeSync(fd,'sensor ${i} reading '+n+'\\n');fs.closeSync(fd);`], { stdio: 'inherit' });
  }

  const totals = await Promise.all(
    streams.map(async (stream, i) => {
      let text = '';
      for await (const chunk of stream) text += chunk; // ends when the writer closed its end
      return { i, lines: text.trim().split('\n').length };
    }),
  );
  for (const { i, lines } of totals) console.log(`sensor ${i}: ${lines} readings, then end of file`);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('fifo: done');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
