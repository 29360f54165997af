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
for (const command of [['configure', ...debug], ['build', '--jobs=2']]) {
  const result = spawnSync(process.execPath, [nodeGypBin(), ...command, `--directory=${gypDir}`], { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
