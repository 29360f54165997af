#!/usr/bin/env node
'use strict';
// copy-addon.js <target> <destination>: copies gyp/build/Release/<target>.node (built by
// build-addons.js) to a backend package, e.g. socketpoll_epoll -> ../epoll-linux-x64/socketpoll.node
const fs = require('node:fs');
const path = require('node:path');
const { replaceFile } = require('./replace-file');

const [target, dest] = process.argv.slice(2);
const from = path.join(__dirname, '..', 'gyp', 'build', 'Release', `${target}.node`);
if (!fs.existsSync(from)) {
  console.error(`copy-addon: ${from} is missing; run \`pnpm --filter @socketpoll/native build\` first`);
  process.exit(1);
}
replaceFile(from, dest);
console.log(`copy-addon: ${target} -> ${path.relative(process.cwd(), path.resolve(dest))}`);
