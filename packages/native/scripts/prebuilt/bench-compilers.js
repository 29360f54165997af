#!/usr/bin/env node
'use strict';
// Is the Zig-built socketpoll.node (the shipped one) as fast as the machine's g++ build of the same
// sources (packages/native/gyp/build/Release/socketpoll_epoll.node)? Both are loaded into this one
// process and driven through the raw binding (no JS wrapper), on a socketpair from the test-only
// fd_helper addon:
//   add+del   add(fd, POLL_READ) then del(fd)        (two epoll_ctl syscalls + the fd table)
//   wait(0)   one registered fd that is readable      (epoll_wait returning 1 event + the batch)
//   idle      wait(0) with nothing ready              (epoll_wait returning 0)
// The machine is shared and syscalls are slow here, so rounds are interleaved (the order of the
// two builds alternates) and medians reported, plus the median of the per-round ratios zig/gcc.
// Usage: node scripts/bench-compilers.js [--rounds 15] [--ops 200000] [--zig <other .node to compare>]
const path = require('node:path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('--rounds', 15);
const OPS = arg('--ops', 200000);
const zigI = process.argv.indexOf('--zig');
const zigFile = path.resolve(zigI >= 0 ? process.argv[zigI + 1] : path.join(__dirname, '..', 'socketpoll.node'));
const native = path.resolve(__dirname, '..', '..', 'native', 'gyp', 'build', 'Release');
const builds = {
  gcc: require(path.join(native, 'socketpoll_epoll.node')),
  zig: require(zigFile),
};
const fds = require(path.join(native, 'fd_helper.node'));

function timeOps(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / OPS; // ns per op
}

function runOnce(addon) {
  const READ = addon.constants.POLL_READ;
  const poller = new addon.Poller(8, new Int32Array(24));
  const [a, b] = fds.socketpair();
  const out = {};
  out['add+del'] = timeOps(() => {
    for (let i = 0; i < OPS; i++) {
      poller.add(a, READ, 1);
      poller.del(a);
    }
  });
  poller.add(a, READ, 1);
  out.idle = timeOps(() => {
    for (let i = 0; i < OPS; i++) poller.wait(0);
  });
  fds.write(b, 'x');
  out['wait(0)'] = timeOps(() => {
    for (let i = 0; i < OPS; i++) if (poller.wait(0) !== 1) throw new Error('expected 1 event');
  });
  poller.close();
  fds.close(a);
  fds.close(b);
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (const name of Object.keys(builds)) runOnce(builds[name]); // warm-up
const samples = { gcc: [], zig: [] };
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? ['zig', 'gcc'] : ['gcc', 'zig'];
  for (const name of order) samples[name].push(runOnce(builds[name]));
}
console.log(`${ROUNDS} interleaved rounds x ${OPS} ops, ns/op (median), Node ${process.version}`);
console.log('op        gcc(node-gyp)  zig(shipped)  zig/gcc (median of per-round ratios)');
for (const op of Object.keys(samples.gcc[0])) {
  const g = median(samples.gcc.map((s) => s[op]));
  const z = median(samples.zig.map((s) => s[op]));
  const ratio = median(samples.gcc.map((s, i) => samples.zig[i][op] / s[op]));
  console.log(`${op.padEnd(9)} ${g.toFixed(0).padStart(13)} ${z.toFixed(0).padStart(13)}  ${ratio.toFixed(3)}`);
}
