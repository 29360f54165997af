// child.mjs — runs ONE Node system on ONE workload in its own process, prints one JSON line.
//
//   node --expose-gc src/child.mjs '<json: {system, workload, n, warmupMs, windowMs, samples, gapUs}>'
//
// Systems (the raw C anchors are build/bin/anchor, spawned directly by run.mjs; src/systems.mjs lists all):
//   sp-epoll-start, sp-epoll-wait, sp-poll-start, sp-poll-wait   @socketpoll/core, event-loop start() or
//                        sync wait(); reads/writes with fs.readSync/fs.writeSync, as user code would
//   sp-epoll-thread      sp-epoll-start delivered by the helper thread (SOCKETPOLL_DELIVERY=thread)
//                        instead of a uv_poll_t on the epoll fd
//   sp-epoll-batch       start() on epoll, reads/writes the whole batch with two native calls
//                        (@socketpoll/core's readEach/writeEach: the "batched I/O helper")
//   npm-epoll            the npm `epoll` package (one callback per event), fs.readSync/fs.writeSync
//   sp-epoll-dropin      only when named: @socketpoll/epoll, the same code as npm-epoll on socketpoll
//   net                  Node's net.Socket on both ends ('data' event, socket.write)
//   uv-poll              diagnostic: one libuv uv_poll_t per fd (build/bin/helper.node uvPoll), one JS
//                        call per event, fs.readSync/fs.writeSync: event-loop delivery with nothing else
//   uv-poll-exact        diagnostic, only when named: uv-poll plus a poll(2) per event for the fd's exact
//                        revents (the cost of direct watching that keeps POLL_HANGUP/POLL_ERROR exact)
//   uv-poll-batched      diagnostic, only when named: one uv_poll_t per fd, the events of a loop
//                        iteration handed to JS in one call (helper.node uvPollBatched): direct
//                        watching with batches, exact on sockets (poll(2) only on UV_DISCONNECT/error)
//   sp-epoll-native      diagnostic, only when named: the binding's Poller used directly (start() on the
//                        uv_poll path, reading the (fd, events, token) triples from its Int32Array),
//                        without @socketpoll/core's TypeScript layer: what that layer costs
//   sp-stream            (paced only) @socketpoll/core readableFrom(fd), 'data' events
// Workload calibrate-js: cost of a 1-byte write + read from JS, with fs.*Sync and with the helper.
// Workloads: see native/anchor.c (oneway, sparse, bounce, latency, registration, paced); same definitions.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const helper = require(join(pkgRoot, 'build', 'bin', 'helper.node'));
const ANCHOR = join(pkgRoot, 'build', 'bin', 'anchor');
const MAX_EVENTS = 1024;

const cfg = JSON.parse(process.argv[2]);
const { system, workload, n } = cfg;
// Each socketpoll row names its delivery path; the environment does not choose it.
if (system === 'sp-epoll-thread') process.env.SOCKETPOLL_DELIVERY = 'thread';
else delete process.env.SOCKETPOLL_DELIVERY;

function emit(obj) {
  fs.writeSync(1, JSON.stringify({ system, workload, n, ...obj }) + '\n');
  process.exit(0);
}

/** A workspace package by name (falls back to its sibling package folder when it is not linked). */
function workspacePackage(name, folder) {
  try {
    return require(name);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return require(join(pkgRoot, '..', folder));
  }
}

/** The npm `epoll` package (built from source), or @socketpoll/epoll for sp-epoll-dropin: the same API. */
function epollPackage() {
  return system === 'sp-epoll-dropin' ? workspacePackage('@socketpoll/epoll', 'epoll') : require('epoll');
}

/** Loads @socketpoll/core (scripts/compare.mjs may point a variant at another build of core). */
function loadCore() {
  return process.env.SOCKETPOLL_BENCH_CORE ? require(process.env.SOCKETPOLL_BENCH_CORE) : workspacePackage('@socketpoll/core', 'core');
}

// ---- fds and slots -------------------------------------------------------------------------------

/** Registered fd i reads rfd[i] and answers by writing one byte into wfd[i]. */
function makeSlots() {
  const fds = helper.socketpairs(n);
  const bounce = workload === 'bounce';
  const count = bounce ? 2 * n : n;
  const rfd = new Int32Array(count);
  const wfd = new Int32Array(count);
  for (let i = 0; i < n; i++) {
    if (bounce) {
      rfd[2 * i] = wfd[2 * i] = fds[2 * i];
      rfd[2 * i + 1] = wfd[2 * i + 1] = fds[2 * i + 1];
    } else {
      rfd[i] = fds[2 * i];
      wfd[i] = fds[2 * i + 1];
    }
  }
  let maxFd = 0;
  for (const fd of fds) if (fd > maxFd) maxFd = fd;
  const slotOf = new Int32Array(maxFd + 1).fill(-1);
  for (let i = 0; i < count; i++) slotOf[rfd[i]] = i;
  const prime = () => {
    for (let i = 0; i < (workload === 'sparse' ? 1 : n); i++) helper.write1(fds[2 * i + 1]);
  };
  return { fds, count, rfd, wfd, slotOf, prime };
}

// ---- the meter: warm-up, then a fixed window ------------------------------------------------------

function makeMeter(onDone) {
  let events = 0;
  let measuring = false;
  let start = 0;
  let end = 0;
  let cpu0;
  const warmEnd = performance.now() + cfg.warmupMs;
  return function tick(k) {
    events += k;
    const t = performance.now();
    if (!measuring) {
      if (t >= warmEnd) {
        measuring = true;
        events = 0;
        start = t;
        end = t + cfg.windowMs;
        cpu0 = process.cpuUsage();
      }
      return false;
    }
    if (t < end) return false;
    const seconds = (t - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // CPU time per event (user + system, all threads): less sensitive than events/s to the other
    // work on the machine, which takes the core away but does not add to this process's CPU time.
    onDone({ events, seconds, eventsPerSec: events / seconds, cpuNsPerEvent: ((cpu.user + cpu.system) * 1000) / Math.max(events, 1) });
    return true;
  };
}

// JS-side I/O as user code does it: fs.readSync / fs.writeSync (EAGAIN throws; it is rare here).
// Deno's fs takes only fds Deno opened itself, and these come from the helper: there (or with
// SOCKETPOLL_BENCH_IO=helper, to compare like with like) the helper's read1/write1 do the I/O.
const helperIo = typeof globalThis.Deno !== 'undefined' || process.env.SOCKETPOLL_BENCH_IO === 'helper';
const rbuf = Buffer.alloc(64);
const one = Buffer.from('x');
function fsRead(fd) {
  if (helperIo) return helper.read1(fd);
  try {
    return fs.readSync(fd, rbuf, 0, 64, null);
  } catch (e) {
    if (e.code === 'EAGAIN') return -11;
    throw e;
  }
}
function fsWrite(fd) {
  if (helperIo) return helper.write1(fd);
  try {
    return fs.writeSync(fd, one, 0, 1, null);
  } catch (e) {
    if (e.code === 'EAGAIN') return -11;
    throw e;
  }
}

function socketpollSystem(backend) {
  const core = loadCore();
  // scripts/compare.mjs may point a variant at another build of the addon.
  const addonPath = process.env.SOCKETPOLL_BENCH_ADDON || undefined;
  const p = new core.SocketPoll({ maxEvents: MAX_EVENTS, backend, addonPath });
  const delivery = system === 'sp-epoll-thread' || backend === 'poll' ? 'thread' : 'uvpoll';
  if (p.delivery !== delivery) throw new Error(`${system}: delivery is ${p.delivery}, expected ${delivery}`);
  return { core, p };
}

/** The binding's own poller (no TypeScript layer): events come as (fd, events, token) in buf. */
function nativePoller() {
  const core = loadCore();
  const { addon } = core.loadBackend({ backend: 'epoll' });
  const buf = new Int32Array(MAX_EVENTS * 3);
  const native = new addon.Poller(MAX_EVENTS, buf);
  return { native, buf };
}

// ---- throughput workloads -------------------------------------------------------------------------

function throughput() {
  const s = makeSlots();
  const { rfd, wfd, slotOf, count } = s;

  if (system === 'net') {
    const sockets = [];
    let done = false;
    const tick = makeMeter((r) => {
      done = true;
      emit(r);
    });
    if (workload === 'bounce') {
      for (let i = 0; i < count; i++) {
        const sock = new net.Socket({ fd: rfd[i], readable: true, writable: true });
        sock.on('data', () => {
          if (done) return;
          sock.write(one);
          tick(1);
        });
        sockets.push(sock);
      }
    } else {
      for (let i = 0; i < count; i++) {
        const reader = new net.Socket({ fd: rfd[i], readable: true, writable: false });
        const writer = new net.Socket({ fd: wfd[i], readable: false, writable: true });
        reader.on('data', () => {
          if (done) return;
          writer.write(one);
          tick(1);
        });
        sockets.push(reader, writer);
      }
    }
    s.prime();
    return;
  }

  if (system === 'uv-poll' || system === 'uv-poll-exact') {
    let done = false;
    const tick = makeMeter((r) => {
      done = true;
      helper.uvPollCloseAll();
      emit(r);
    });
    const onEvent = (fd) => {
      if (done) return;
      fsRead(fd);
      fsWrite(wfd[slotOf[fd]]);
      tick(1);
    };
    for (let i = 0; i < count; i++) helper.uvPoll(rfd[i], onEvent, system === 'uv-poll-exact');
    s.prime();
    return;
  }

  if (system === 'npm-epoll' || system === 'sp-epoll-dropin') {
    const { Epoll } = epollPackage();
    let done = false;
    const tick = makeMeter((r) => {
      done = true;
      emit(r);
    });
    const ep = new Epoll((err, fd) => {
      if (err) throw err;
      if (done) return;
      fsRead(fd);
      fsWrite(wfd[slotOf[fd]]);
      tick(1);
    });
    for (let i = 0; i < count; i++) ep.add(rfd[i], Epoll.EPOLLIN);
    s.prime();
    return;
  }

  if (system === 'uv-poll-batched') {
    const buf = new Int32Array(2 * MAX_EVENTS);
    let done = false;
    const tick = makeMeter((r) => {
      done = true;
      helper.uvPollCloseAll();
      emit(r);
    });
    helper.uvPollBatched(rfd.subarray(0, count), buf, (k) => {
      if (done) return;
      for (let j = 0; j < 2 * k; j += 2) {
        fsRead(buf[j]);
        fsWrite(wfd[slotOf[buf[j]]]);
      }
      tick(k);
    });
    s.prime();
    return;
  }

  if (system === 'sp-epoll-native') {
    const { native, buf } = nativePoller();
    for (let i = 0; i < count; i++) native.add(rfd[i], 1, i);
    s.prime();
    let done = false;
    const tick = makeMeter((r) => {
      done = true;
      native.stop();
      emit(r);
    });
    native.start((k) => {
      if (done) return;
      for (let j = 0; j < 3 * k; j += 3) {
        fsRead(buf[j]);
        fsWrite(wfd[buf[j + 2]]);
      }
      tick(k);
    }, true);
    return;
  }

  const backend = system.startsWith('sp-poll') ? 'poll' : 'epoll';
  const { core, p } = socketpollSystem(backend);
  for (let i = 0; i < count; i++) p.add(rfd[i], core.POLL_READ, i);
  s.prime();

  if (system.endsWith('-wait')) {
    const tick = makeMeter(emit);
    for (;;) {
      const evs = p.wait(-1);
      const k = evs.length;
      for (let j = 0; j < k; j++) {
        const e = evs[j];
        fsRead(e.fd);
        fsWrite(wfd[e.data]);
      }
      if (tick(k)) return;
    }
  }

  let done = false;
  const tick = makeMeter((r) => {
    done = true;
    p.stop();
    emit(r);
  });
  if (system === 'sp-epoll-batch') {
    // @socketpoll/core's batched I/O: every read of the batch in one native call, then every write.
    const CHUNK = 64;
    const rb = new Int32Array(MAX_EVENTS);
    const wb = new Int32Array(MAX_EVENTS);
    const rbuf = Buffer.alloc(MAX_EVENTS * CHUNK);
    const wbuf = Buffer.alloc(MAX_EVENTS * CHUNK, 'x');
    const ones = new Int32Array(MAX_EVENTS).fill(1);
    const results = new Int32Array(MAX_EVENTS);
    p.start((evs) => {
      if (done) return;
      const k = evs.length;
      for (let j = 0; j < k; j++) {
        const e = evs[j];
        rb[j] = e.fd;
        wb[j] = wfd[e.data];
      }
      p.readEach(rb.subarray(0, k), rbuf, CHUNK, results);
      p.writeEach(wb.subarray(0, k), wbuf, CHUNK, ones, results);
      tick(k);
    });
    return;
  }
  p.start((evs) => {
    if (done) return;
    const k = evs.length;
    for (let j = 0; j < k; j++) {
      const e = evs[j];
      fsRead(e.fd);
      fsWrite(wfd[e.data]);
    }
    tick(k);
  });
}

// ---- latency ----------------------------------------------------------------------------------------

function latency() {
  const pair = helper.socketpairs(1);
  const fd = pair[0];
  const warm = Math.floor(cfg.samples / 20) + 10;
  const total = cfg.samples + warm;
  const writer = spawn(ANCHOR, ['writer', String(total), String(cfg.gapUs)], {
    stdio: ['ignore', 'ignore', 'inherit', pair[1]],
  });
  helper.closeAll(new Int32Array([pair[1]])); // the writer holds the only copy: its exit is our EOF
  const lat = new Float64Array(total);
  let got = 0;
  const stampBuf = Buffer.alloc(8);
  const finish = () => {
    const kept = Array.from(lat.subarray(warm, got));
    const sorted = [...kept].sort((a, b) => a - b);
    writer.on('exit', () => {}); // reaped by exit
    emit({ samples: kept.length, latencyNs: kept, p50: sorted[kept.length >> 1], p99: sorted[Math.floor(kept.length * 0.99)] });
  };
  // One sample: t (taken at callback entry) minus the writer's stamp, then the 1-byte ack.
  // Returns false at EOF.
  const useHelper = system === 'sp-epoll-batch';
  const onReadable = (t) => {
    let r;
    try {
      r = fs.readSync(fd, stampBuf, 0, 8, null);
    } catch (e) {
      if (e.code === 'EAGAIN') return true;
      throw e;
    }
    if (r === 0) return false;
    lat[got++] = Number(t - stampBuf.readBigUInt64LE(0));
    if (useHelper) helper.write1(fd);
    else fsWrite(fd);
    return true;
  };

  if (system === 'net') {
    const sock = new net.Socket({ fd, readable: true, writable: true });
    sock.on('data', (buf) => {
      const t = process.hrtime.bigint();
      for (let off = 0; off + 8 <= buf.length; off += 8) lat[got++] = Number(t - buf.readBigUInt64LE(off));
      sock.write(one);
    });
    sock.on('end', finish);
    return;
  }
  if (system === 'uv-poll' || system === 'uv-poll-exact') {
    helper.uvPoll(fd, () => {
      const t = process.hrtime.bigint();
      if (!onReadable(t)) {
        helper.uvPollCloseAll();
        finish();
      }
    }, system === 'uv-poll-exact');
    return;
  }
  if (system === 'npm-epoll' || system === 'sp-epoll-dropin') {
    const { Epoll } = epollPackage();
    const ep = new Epoll((err) => {
      const t = process.hrtime.bigint();
      if (err) throw err;
      if (!onReadable(t)) {
        ep.remove(fd).close();
        finish();
      }
    });
    ep.add(fd, Epoll.EPOLLIN);
    return;
  }
  if (system === 'uv-poll-batched') {
    helper.uvPollBatched(Int32Array.of(fd), new Int32Array(2 * MAX_EVENTS), (k) => {
      const t = process.hrtime.bigint();
      if (k > 0 && !onReadable(t)) {
        helper.uvPollCloseAll();
        finish();
      }
    });
    return;
  }
  if (system === 'sp-epoll-native') {
    const { native } = nativePoller();
    native.add(fd, 1, 0);
    native.start((k) => {
      const t = process.hrtime.bigint();
      if (k > 0 && !onReadable(t)) {
        native.stop();
        native.close();
        finish();
      }
    }, true);
    return;
  }
  const backend = system.startsWith('sp-poll') ? 'poll' : 'epoll';
  const { core, p } = socketpollSystem(backend);
  p.add(fd, core.POLL_READ, 0);
  if (system.endsWith('-wait')) {
    for (;;) {
      const evs = p.wait(-1);
      const t = process.hrtime.bigint();
      if (evs.length && !onReadable(t)) break;
    }
    p.close();
    finish();
    return;
  }
  p.start((evs) => {
    const t = process.hrtime.bigint();
    if (evs.length && !onReadable(t)) {
      p.stop();
      p.close();
      finish();
    }
  });
}

// ---- paced: CPU time per event at a fixed rate -----------------------------------------------------

/**
 * `anchor pacer` writes one byte every 1/rate s into the n pairs in turn; this process reads what is
 * ready and reports its own CPU time (process.cpuUsage: user + system, every thread) per byte over
 * the window. An event is one byte sent; a reader that falls behind reads several per read(2).
 */
function paced() {
  const fds = helper.socketpairs(n);
  const rfd = new Int32Array(n);
  const wfd = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    rfd[i] = fds[2 * i];
    wfd[i] = fds[2 * i + 1];
  }
  const pacer = spawn(ANCHOR, ['pacer', String(cfg.rate), String(cfg.warmupMs + cfg.windowMs + 3000), String(n)], {
    stdio: ['ignore', 'ignore', 'inherit', ...wfd],
  });
  helper.closeAll(wfd); // the pacer holds the only copies
  let events = 0;
  let batches = 0;
  let measuring = false;
  let start = 0;
  let end = 0;
  let cpu0;
  const warmEnd = performance.now() + cfg.warmupMs;
  let finished = false;
  let stopAll = () => {};
  // Called once per delivery (a batch, a callback, a 'data' chunk) with the bytes it read.
  const got = (bytes) => {
    events += bytes;
    batches++;
    const t = performance.now();
    if (!measuring) {
      if (t >= warmEnd) {
        measuring = true;
        events = 0;
        batches = 0;
        start = t;
        end = t + cfg.windowMs;
        cpu0 = process.cpuUsage();
      }
      return;
    }
    if (t < end || finished) return;
    finished = true;
    const cpu = process.cpuUsage(cpu0);
    const seconds = (t - start) / 1000;
    const cpuNs = (cpu.user + cpu.system) * 1000;
    pacer.kill('SIGKILL');
    stopAll();
    emit({ rate: cfg.rate, events, batches, seconds, eventsPerSec: events / seconds, cpuNs, cpuNsPerEvent: cpuNs / Math.max(events, 1), cpuShare: cpuNs / 1e9 / seconds });
  };
  const pbuf = Buffer.alloc(256);
  const readSome = (fd) => {
    try {
      return fs.readSync(fd, pbuf, 0, 256, null);
    } catch (e) {
      if (e.code === 'EAGAIN') return 0;
      throw e;
    }
  };

  if (system === 'net' || system === 'sp-stream') {
    const core = system === 'sp-stream' ? loadCore() : null;
    const streams = [];
    for (let i = 0; i < n; i++) {
      const s = core ? core.readableFrom(rfd[i]) : new net.Socket({ fd: rfd[i], readable: true, writable: false });
      s.on('data', (c) => got(c.length));
      streams.push(s);
    }
    stopAll = () => streams.forEach((s) => s.destroy());
    return;
  }
  if (system === 'uv-poll' || system === 'uv-poll-exact') {
    for (let i = 0; i < n; i++) helper.uvPoll(rfd[i], (fd) => got(readSome(fd)), system === 'uv-poll-exact');
    stopAll = () => helper.uvPollCloseAll();
    return;
  }
  if (system === 'npm-epoll' || system === 'sp-epoll-dropin') {
    const { Epoll } = epollPackage();
    const ep = new Epoll((err, fd) => {
      if (err) throw err;
      got(readSome(fd));
    });
    for (let i = 0; i < n; i++) ep.add(rfd[i], Epoll.EPOLLIN);
    stopAll = () => ep.close();
    return;
  }
  if (system === 'uv-poll-batched') {
    const buf = new Int32Array(2 * MAX_EVENTS);
    helper.uvPollBatched(rfd.subarray(0, n), buf, (k) => {
      let bytes = 0;
      for (let j = 0; j < 2 * k; j += 2) bytes += readSome(buf[j]);
      got(bytes);
    });
    stopAll = () => helper.uvPollCloseAll();
    return;
  }
  if (system === 'sp-epoll-native') {
    const { native, buf } = nativePoller();
    for (let i = 0; i < n; i++) native.add(rfd[i], 1, i);
    native.start((k) => {
      let bytes = 0;
      for (let j = 0; j < 3 * k; j += 3) bytes += readSome(buf[j]);
      got(bytes);
    }, true);
    stopAll = () => native.stop();
    return;
  }
  const { core, p } = socketpollSystem('epoll');
  for (let i = 0; i < n; i++) p.add(rfd[i], core.POLL_READ, i);
  p.start((evs) => {
    let bytes = 0;
    for (let j = 0; j < evs.length; j++) bytes += readSome(evs[j].fd);
    got(bytes);
  });
  stopAll = () => p.stop();
}

// ---- registration cost and memory per fd ----------------------------------------------------------

function slabBytes() {
  // Kernel memory of epoll registrations: one epitem (+ one poll-wait entry) per fd. /proc/slabinfo is
  // usually root-only; where it cannot be read the figure is reported as null.
  try {
    const text = fs.readFileSync('/proc/slabinfo', 'utf8');
    let total = 0;
    for (const name of ['eventpoll_epi', 'eventpoll_pwq']) {
      const m = text.match(new RegExp(`^${name}\\s+(\\d+)\\s+\\d+\\s+(\\d+)`, 'm'));
      if (m) total += Number(m[1]) * Number(m[2]);
    }
    return total;
  } catch {
    return null;
  }
}

function rss() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

function registration() {
  const fds = helper.socketpairs(n);
  const rfd = new Int32Array(n);
  for (let i = 0; i < n; i++) rfd[i] = fds[2 * i];
  let add, mod, del;
  let cleanup = () => {};
  if (system === 'net') {
    // net.Socket has no add/mod/del of its own: report only what a reading socket costs in memory.
    const rss0 = rss();
    const slab0 = slabBytes();
    const socks = [];
    for (let i = 0; i < n; i++) socks.push(new net.Socket({ fd: rfd[i], readable: true, writable: false }));
    setTimeout(() => {
      const rss1 = rss();
      const slab1 = slabBytes();
      emit({ opsPerSec: null, rssPerFd: (rss1 - rss0) / n, slabPerFd: slab0 === null ? null : (slab1 - slab0) / n });
    }, 50);
    return;
  } else if (system === 'npm-epoll' || system === 'sp-epoll-dropin') {
    const { Epoll } = epollPackage();
    const ep = new Epoll(() => {});
    add = (fd) => ep.add(fd, Epoll.EPOLLIN);
    mod = (fd) => ep.modify(fd, Epoll.EPOLLIN | Epoll.EPOLLPRI);
    del = (fd) => ep.remove(fd);
    cleanup = () => ep.close();
  } else {
    const backend = system.startsWith('sp-poll') ? 'poll' : 'epoll';
    const { core, p } = socketpollSystem(backend);
    add = (fd, i) => p.add(fd, core.POLL_READ, i);
    mod = (fd, i) => p.mod(fd, core.POLL_READ, i + 1);
    del = (fd) => p.del(fd);
    cleanup = () => p.close();
  }
  const rss0 = rss();
  const slab0 = slabBytes();
  for (let i = 0; i < n; i++) add(rfd[i], i);
  const rss1 = rss();
  const slab1 = slabBytes();
  for (let i = 0; i < n; i++) del(rfd[i]);

  const warmEnd = performance.now() + cfg.warmupMs;
  let ops = 0;
  let start = 0;
  let measuring = false;
  for (;;) {
    for (let i = 0; i < n; i++) add(rfd[i], i);
    for (let i = 0; i < n; i++) mod(rfd[i], i);
    for (let i = 0; i < n; i++) del(rfd[i]);
    ops += 3 * n;
    const t = performance.now();
    if (!measuring) {
      if (t >= warmEnd) {
        measuring = true;
        ops = 0;
        start = t;
      }
    } else if (t - start >= cfg.windowMs) {
      const seconds = (t - start) / 1000;
      cleanup();
      emit({
        ops,
        seconds,
        opsPerSec: ops / seconds,
        rssPerFd: (rss1 - rss0) / n,
        slabPerFd: slab0 === null ? null : (slab1 - slab0) / n,
      });
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------

if (system.startsWith('sp-')) {
  // Skip (and say why) rather than fail when core is not built or this backend is not available here.
  // (sp-stream uses the default poller: epoll here.)
  try {
    const core = loadCore();
    new core.SocketPoll({ maxEvents: 1, backend: system.startsWith('sp-poll') ? 'poll' : 'epoll' }).close();
  } catch (e) {
    emit({ skipped: `@socketpoll/core: ${e.message.split('\n')[0]}` });
  }
}
// ---- calibration of JS-side I/O ----------------------------------------------------------------------

function calibrateJs() {
  const [a, b] = helper.socketpairs(1);
  const measure = (write, read) => {
    let iters = 0;
    const t0 = performance.now();
    let t;
    do {
      for (let i = 0; i < 1000; i++) {
        write(b);
        read(a);
      }
      iters += 1000;
      t = performance.now();
    } while (t - t0 < cfg.windowMs / 2);
    return ((t - t0) * 1e6) / iters;
  };
  measure(fsWrite, fsRead); // warm-up (JIT)
  measure(helper.write1, helper.read1);
  emit({ fsWriteReadNs: measure(fsWrite, fsRead), helperWriteReadNs: measure(helper.write1, helper.read1) });
}

if (workload === 'calibrate-js') calibrateJs();
else if (workload === 'latency') latency();
else if (workload === 'registration') registration();
else if (workload === 'paced') paced();
else throughput();
