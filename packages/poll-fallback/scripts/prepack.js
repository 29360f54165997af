#!/usr/bin/env node
'use strict';
// prepack.js — runs before `npm pack` / `pnpm publish`: copies the sources install.js builds from
// into ./native (git-ignored) and writes ./platforms.json from @socketpoll/core's platform table
// (src/platforms.ts, compiled to dist/platforms.js), so the table stays in one place.
const fs = require('node:fs');
const path = require('node:path');

const here = path.join(__dirname, '..');
const native = path.join(here, '..', 'native');
const out = path.join(here, 'native');

// What the socketpoll_poll target of gyp/binding.gyp compiles, plus the node-gyp helper.
const COPY = ['include', 'src/poll', 'src/binding', 'gyp/binding.gyp', 'scripts/node-gyp-env.js', 'scripts/replace-file.js'];

fs.rmSync(out, { recursive: true, force: true });
for (const rel of COPY) {
  const from = path.join(native, rel);
  if (!fs.existsSync(from)) throw new Error(`prepack: ${from} is missing`);
  fs.cpSync(from, path.join(out, rel), { recursive: true });
}

const compiled = path.join(here, '..', 'core', 'dist', 'platforms.js');
if (!fs.existsSync(compiled)) {
  throw new Error(`prepack: ${compiled} is missing; run \`pnpm build\` at the repository root first`);
}
const { PLATFORM_PACKAGES } = require(compiled);
fs.writeFileSync(path.join(here, 'platforms.json'), `${JSON.stringify(PLATFORM_PACKAGES, null, 2)}\n`);
console.log(`prepack: copied ${COPY.join(', ')} to native/; wrote platforms.json (${PLATFORM_PACKAGES.length} rows)`);
