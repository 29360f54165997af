#!/usr/bin/env node
'use strict';
// Runs scripts/valgrind-smoke.js under valgrind (memcheck) and fails on any leak or memory error
// whose stack goes through our code (the socketpoll addons, the C backends, the binding).
// V8's own conservative stack scanning produces "uninitialised value" reports inside node itself;
// those have no frame of ours and are not counted.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const which = spawnSync('valgrind', ['--version']);
if (which.error) {
  if (process.env.CI === 'true') {
    console.error('valgrind-check: valgrind is not installed (apt-get install valgrind)');
    process.exit(1);
  }
  console.log('valgrind-check: skipped, valgrind is not installed (apt-get install valgrind)');
  process.exit(0);
}
const args = [
  '--leak-check=full',
  '--show-leak-kinds=definite,indirect',
  '--num-callers=40',
  process.execPath,
  '--expose-gc',
  path.join(__dirname, 'valgrind-smoke.js'),
];
const r = spawnSync('valgrind', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
const log = r.stderr;
const blocks = log.split(/\n==\d+== \n/);
// The prebuilt addons are stripped (symbols local, Zig build): their frames read
// "??? (in .../socketpoll.node)", so the file name counts as ours too.
const ours = /socketpoll_|fd_helper|SocketPoll_|socketpoll::|socketpoll\.node\)/;
const bad = blocks.filter((b) => ours.test(b) && /(Invalid|uninitialised|definitely lost|indirectly lost|Mismatched|overlap)/.test(b));
const definitely = /definitely lost: ([\d,]+) bytes/.exec(log);
const indirectly = /indirectly lost: ([\d,]+) bytes/.exec(log);
const num = (m) => (m ? Number(m[1].replace(/,/g, '')) : 0);
process.stdout.write(r.stdout);
console.log(`valgrind-check: definitely lost ${num(definitely)} B, indirectly lost ${num(indirectly)} B, reports in our code: ${bad.length}`);
if (r.status !== 0 || bad.length > 0 || num(definitely) > 0 || num(indirectly) > 0) {
  for (const b of bad) console.error(b);
  if (r.status !== 0) console.error(log.slice(-4000));
  process.exit(1);
}
