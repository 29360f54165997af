#!/usr/bin/env node
'use strict';
// prepack.js — runs before `npm pack` / `pnpm publish`: copies into ./native (git-ignored) what
// install.js builds from: the C interface, the binding, the shared C code and the backend files it
// can compile (epoll, kqueue, poll; not the test-only emulation or tests), gyp/binding.gyp and the
// two scripts binding.gyp and install.js use; and writes platforms.json, the prebuilt rows of core's
// platform table (package, os, cpu, libc) from which install.js decides whether to compile.
const fs = require('node:fs');
const path = require('node:path');

const here = path.join(__dirname, '..');
const native = path.join(here, '..', 'native');
const out = path.join(here, 'native');

const { BINDING_SOURCES, backendSource } = require(path.join(native, 'scripts', 'addon-sources.js'));
const COPY = [...new Set([
  'include', 'src/binding', 'src/poll/SocketPoll_backend.h', 'gyp/binding.gyp', 'scripts/addon-sources.js', 'scripts/node-gyp-env.js',
  ...BINDING_SOURCES, ...['epoll', 'kqueue', 'poll'].map(backendSource),
])];

fs.rmSync(out, { recursive: true, force: true });
for (const rel of COPY) {
  const from = path.join(native, rel);
  if (!fs.existsSync(from)) throw new Error(`prepack: ${from} is missing`);
  fs.cpSync(from, path.join(out, rel), { recursive: true });
}
const { PLATFORM_PACKAGES } = require(path.join(native, 'scripts', 'platform-table.js'));
const rows = PLATFORM_PACKAGES.map(({ packageName, platform, arch, libc }) => ({ packageName, platform, arch, ...(libc ? { libc } : {}) }));
fs.writeFileSync(path.join(here, 'platforms.json'), `${JSON.stringify(rows, null, 2)}\n`);
console.log(`prepack: copied ${COPY.length} paths to native/, wrote platforms.json (${rows.length} prebuilt rows)`);
