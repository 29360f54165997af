'use strict';
// One cell of src/serialport.mjs: a SerialPortStream from @serialport/stream with the binding under
// test (@serialport/bindings-cpp's, or @socketpoll/serialport's) on a pty whose other end a peer
// process drives, the same code on every runtime. After `warmupMs` it counts for `windowMs` the
// bytes the stream moved and this process's CPU time (user + system, all threads, the thread pool
// included), and prints them as one JSON line.
//   workloads: write64k (the stream writes 64 KiB Buffers as fast as it takes them; the peer discards),
//              read (the peer writes as fast as it can), paced (the peer writes small chunks at a rate)
const { SerialPortStream } = require('@serialport/stream');

const cfg = JSON.parse(process.argv[2]);
const binding =
  cfg.binding === 'cpp' ? require('@serialport/bindings-cpp').autoDetect() : require('@socketpoll/serialport').SocketPollBinding;

const port = new SerialPortStream({ binding, path: cfg.path, baudRate: cfg.baudRate, autoOpen: false });
let bytes = 0;
let counting = false;
let start;
let cpu0;

port.open((err) => {
  if (err) throw err;
  if (cfg.workload === 'write64k') {
    const chunk = Buffer.alloc(65536, 0x5a);
    const pump = () => {
      while (!stopped) {
        if (counting) bytes += chunk.length;
        if (!port.write(chunk)) return port.once('drain', pump);
      }
    };
    pump();
  } else {
    port.on('data', (c) => {
      if (counting) bytes += c.length;
    });
  }
  setTimeout(() => {
    counting = true;
    bytes = 0;
    start = process.hrtime.bigint();
    cpu0 = process.cpuUsage();
    setTimeout(finish, cfg.windowMs);
  }, cfg.warmupMs);
});

let stopped = false;
function finish() {
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  counting = false;
  stopped = true;
  console.log(JSON.stringify({ bytes, cpuUs: cpu.user + cpu.system, wallMs }));
  // The peer may be blocked on a full pty: do not wait for a clean close.
  process.exit(0);
}
