#!/usr/bin/env node
'use strict';
// Builds every Node addon of gyp/binding.gyp (one per backend available on this OS, plus the
// test-only fd helper) with the running Node's headers. Usage: node scripts/build-addons.js [--debug]
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { nodeGypEnv, nodeGypBin } = require('./node-gyp-env');

const gypDir = path.join(__dirname, '..', 'gyp');
const args = [nodeGypBin(), 'rebuild', `--directory=${gypDir}`, '--jobs=2'];
if (process.argv.includes('--debug')) args.push('--debug');
const env = nodeGypEnv();
if (!env.npm_config_nodedir) {
  console.warn('build-addons: no local Node headers next to', process.execPath, '- node-gyp may try to download them');
}
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env });
process.exit(result.status ?? 1);
