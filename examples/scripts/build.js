'use strict';
// Builds the recipes: the example addon of recipes/native-fd (node-gyp, Linux only) and the
// TypeScript recipes (tsc, strict) into build/.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { nodeGypBin, nodeGypEnv } = require('../../packages/native/scripts/node-gyp-env.js');

function run(command, args) {
  const r = spawnSync(command, args, { cwd: path.join(__dirname, '..'), stdio: 'inherit', env: nodeGypEnv() });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.platform === 'linux') {
  run(process.execPath, [nodeGypBin(), 'rebuild', '--directory=recipes/native-fd', '--loglevel=warn']);
} else {
  console.log('examples: recipes/native-fd is Linux only (eventfd, timerfd): not built here');
}
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
