#!/usr/bin/env node
'use strict';
// Builds every Node addon of gyp/binding.gyp (one per backend available on this OS, plus the
// test-only fd helper) with the running Node's headers: configure, then an incremental build (make
// recompiles only what changed). Usage: node scripts/build-addons.js [--debug]
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { nodeGypEnv, nodeGypBin } = require('./node-gyp-env');

const gypDir = path.join(__dirname, '..', 'gyp');
const debug = process.argv.includes('--debug') ? ['--debug'] : [];
const env = nodeGypEnv();
if (!env.npm_config_nodedir) {
  console.warn('build-addons: no local Node headers next to', process.execPath, '- node-gyp may try to download them');
}
// The targets of gyp/binding.gyp on this OS, built one at a time: every backend target compiles
// the same binding sources, which gyp's make output puts at the same object paths
// (obj.target/<target>/../src/... is shared), so two targets built in parallel can link an object
// the other is still writing (an addon without some file's symbols). Built in turn, a target reuses
// the objects the one before it made; each target's own files still compile two at a time.
const TARGETS = {
  linux: ['socketpoll_epoll', 'socketpoll_poll', 'socketpoll_kqueue_emulated', 'fd_helper'],
  darwin: ['socketpoll_kqueue', 'socketpoll_poll', 'fd_helper'],
  freebsd: ['socketpoll_kqueue', 'socketpoll_poll', 'fd_helper'],
}[process.platform] ?? ['socketpoll_poll', 'fd_helper'];
for (const command of [['configure', ...debug], ...TARGETS.map((target) => ['build', '--jobs=2', target])]) {
  const result = spawnSync(process.execPath, [nodeGypBin(), ...command, `--directory=${gypDir}`], { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
