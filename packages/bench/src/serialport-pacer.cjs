'use strict';
// The device end for src/serialport.mjs's paced cells: writes `chunk`-byte messages to a pty at
// `bytesPerSecond`, as many as are due at each 1 ms tick (a USB serial adapter also hands data over
// per millisecond frame). Runs until killed.
const fs = require('node:fs');
const [path, bytesPerSecond, chunkSize] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
const chunk = Buffer.alloc(chunkSize, 0x41);
const start = process.hrtime.bigint();
let sent = 0;
setInterval(() => {
  const due = Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * bytesPerSecond);
  while (sent + chunkSize <= due) {
    fs.writeSync(fd, chunk);
    sent += chunkSize;
  }
}, 1);
