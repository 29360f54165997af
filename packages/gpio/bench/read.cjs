'use strict';
// The socketpoll side of the GPIO edge benchmark: the same line, both edges, through
// @socketpoll/gpio's 'edge' events on Node's event loop; prints the same JSON as `edges read`.
//   node read.cjs <chip> <offset> <count>
// Latency and CPU are measured after the first tenth of the events, as in the C reader.
const gpio = require('..');
const [chip, offset, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const req = gpio.requestLines(chip, { lines: [offset], edge: 'both', consumer: 'bench-js', eventBufferSize: 1024 });
const lat = new Float64Array(count);
let n = 0;
let missed = 0;
let seen = 0;
const warm = Math.floor(count / 10); // the first tenth warms up (JIT) and is not measured
let cpu0 = process.cpuUsage();
let lastSeen = Date.now();
const idle = setInterval(() => {
  if (Date.now() - lastSeen > 3000) finish();
}, 500);
function finish() {
  clearInterval(idle);
  const cpu = process.cpuUsage(cpu0);
  const sorted = Array.from(lat.subarray(0, n)).sort((a, b) => a - b);
  console.log(JSON.stringify({
    reader: 'js', events: n, missed, p50us: +(sorted[n >> 1] / 1e3).toFixed(1), p99us: +(sorted[Math.floor((n * 99) / 100)] / 1e3).toFixed(1),
    cpuUsPerEvent: +((cpu.user + cpu.system) / n).toFixed(2),
  }));
  req.close();
}
req.on('edge', (ev) => {
  const t = process.hrtime.bigint();
  missed += ev.missed;
  if (++seen === warm) cpu0 = process.cpuUsage();
  else if (seen > warm) lat[n++] = Number(t - ev.timestampNs);
  if (ev.seqno >= count) finish();
  else if ((seen & 63) === 0) lastSeen = Date.now();
});
console.log('ready');
