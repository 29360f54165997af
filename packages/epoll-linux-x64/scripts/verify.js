#!/usr/bin/env node
'use strict';
// Checks the linux-x64 artefact, by reading its ELF dynamic section and dynamic symbols
// (scripts/elf.js, no dependencies, no binutils). Run in CI after the build (`pnpm test`).
//
//   - an ELF64 x86-64 shared object (ET_DYN, no program interpreter);
//   - the glibc baseline: every versioned import is GLIBC_x.y with x.y <= 2.17, so it loads on
//     glibc 2.17 and later; no GLIBCXX_/CXXABI_/GCC_ versions and no libstdc++/libgcc_s/libc++
//     NEEDED (libc++ is linked in statically);
//   - NEEDED only glibc's own libraries: libc.so.6 and, since before glibc 2.34 their functions
//     lived in files of their own, libpthread.so.0 / libdl.so.2 / libm.so.6 (Zig's 2.17 stubs bind
//     each symbol to the library that had it in 2.17; only the ones used are linked), and
//     ld-linux-x86-64.so.2 (__tls_get_addr, if thread-locals are ever used): all part of every glibc
//     install;
//   - exports napi_register_module_v1 (and at most node_api_module_get_api_version_v1), nothing
//     else: the statically linked libc++, compiler-rt etc. are local;
//   - imports epoll_create1/epoll_ctl/epoll_wait; napi_*/node_api_* and uv_* undefined and
//     unversioned (the node process that loads the addon provides them); every other import is a
//     GLIBC_ versioned one, or a weak unversioned hook of the C runtime (__gmon_start__, _ITM_*);
//   - no TEXTREL, no RPATH/RUNPATH, a non-executable stack (glibc 2.41 refuses to dlopen a library
//     that asks for an executable stack);
//   - contains no path of the machine that built it.
// With --reproducible it also builds the binary again into a temporary file and requires the same
// bytes.
//
// Usage: node scripts/verify.js [socketpoll.node] [--reproducible]
const fs = require('node:fs');
const path = require('node:path');
const { leakedBuildPaths, runVerifyCli } = require('../../native/scripts/artefact-checks');
const elf = require('./elf');
const { ENTRY_POINTS } = require('./build');

const GLIBC_BASELINE = [2, 17];
const ALLOWED_NEEDED = ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'ld-linux-x86-64.so.2'];
const FROM_NODE = /^(napi|node_api|uv)_/;
const WEAK_RUNTIME_HOOKS = /^(__gmon_start__|_ITM_registerTMCloneTable|_ITM_deregisterTMCloneTable|_Jv_RegisterClasses)$/;
const EPOLL_IMPORTS = ['epoll_create1', 'epoll_ctl', 'epoll_wait'];

function glibcVersion(name) {
  const m = /^GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$/.exec(name ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

function newer(a, b) {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
}

function list(names, max = 10) {
  return names.slice(0, max).join(', ') + (names.length > max ? ` (+${names.length - max})` : '');
}

function verify(file) {
  const problems = [];
  const notes = [];
  const buf = fs.readFileSync(file);
  let e;
  try {
    e = elf.parse(buf);
  } catch (err) {
    return { problems: [err.message], notes };
  }
  if (e.machine !== elf.EM_X86_64) problems.push(`machine ${e.machine}, expected x86-64 (${elf.EM_X86_64})`);
  if (e.type !== 'DYN' || e.interp) problems.push(`ELF type ${e.type}${e.interp ? ' with a program interpreter' : ''}, expected a shared object`);
  notes.push(`ELF64 x86-64 ${e.type === 'DYN' ? 'shared object' : e.type}, ${buf.length} bytes`);

  // Libraries.
  const badNeeded = e.needed.filter((n) => !ALLOWED_NEEDED.includes(n));
  if (badNeeded.length) problems.push(`NEEDED beyond glibc: ${badNeeded.join(', ')}`);
  if (!e.needed.includes('libc.so.6')) problems.push('does not link libc.so.6');
  notes.push(`NEEDED: ${e.needed.join(', ')}`);
  if (e.rpath.length) problems.push(`has RPATH/RUNPATH ${e.rpath.join(', ')}`);
  if (e.textrel) problems.push('has text relocations (TEXTREL)');
  if (!e.hasGnuStack || e.execStack) problems.push('asks for an executable stack (no PT_GNU_STACK, or PF_X on it)');

  // Versions.
  const imports = e.symbols.filter((s) => !s.defined && s.name);
  const versionNames = [...new Set(imports.map((s) => s.version).filter(Boolean))];
  const foreign = versionNames.filter((v) => !glibcVersion(v));
  if (foreign.length) problems.push(`imports versions other than GLIBC_x.y: ${list(foreign)}`);
  const glibc = versionNames.map(glibcVersion).filter(Boolean).sort((a, b) => (newer(a, b) ? 1 : newer(b, a) ? -1 : 0));
  const highest = glibc[glibc.length - 1];
  if (highest && newer(highest, GLIBC_BASELINE)) {
    const offenders = imports.filter((s) => glibcVersion(s.version) && newer(glibcVersion(s.version), GLIBC_BASELINE));
    problems.push(`needs glibc ${highest.join('.').replace(/\.0$/, '')} > ${GLIBC_BASELINE.join('.')}: ${list(offenders.map((s) => `${s.name}@${s.version}`))}`);
  }
  if (e.definedVersions.length) problems.push(`defines symbol versions ${list(e.definedVersions)}`);
  notes.push(`glibc versions: ${glibc.map((v) => v.join('.').replace(/\.0$/, '')).join(', ')} (highest ${highest ? highest.join('.').replace(/\.0$/, '') : 'none'})`);

  // Exports.
  const exported = e.symbols.filter((s) => s.defined && s.bind !== 'LOCAL' && s.visibility !== 'HIDDEN' && s.visibility !== 'INTERNAL');
  const names = exported.map((s) => s.name);
  if (!names.includes('napi_register_module_v1')) problems.push('napi_register_module_v1 is not exported');
  const extra = names.filter((n) => !ENTRY_POINTS.includes(n));
  if (extra.length) problems.push(`exports more than the Node-API entry points: ${list(extra)}`);
  notes.push(`exports: ${names.join(', ')}`);

  // Imports.
  for (const want of EPOLL_IMPORTS) {
    const s = imports.find((i) => i.name === want);
    if (!s) problems.push(`does not import ${want}`);
    else if (!glibcVersion(s.version)) problems.push(`${want} is not bound to a glibc version`);
  }
  const fromNode = imports.filter((s) => FROM_NODE.test(s.name));
  const versionedNode = fromNode.filter((s) => s.version);
  if (versionedNode.length) problems.push(`Node-API/libuv imports bound to a version: ${list(versionedNode.map((s) => `${s.name}@${s.version}`))}`);
  const rest = imports.filter((s) => !FROM_NODE.test(s.name) && !glibcVersion(s.version));
  const stray = rest.filter((s) => !(s.bind === 'WEAK' && WEAK_RUNTIME_HOOKS.test(s.name)));
  if (stray.length) problems.push(`imports neither from glibc nor from Node: ${list(stray.map((s) => s.name))}`);
  const hooks = rest.filter((s) => !stray.includes(s));
  notes.push(`imports: ${imports.filter((s) => glibcVersion(s.version)).length} from glibc (epoll_*, pthread_*, ...), ` +
    `${fromNode.filter((s) => !s.name.startsWith('uv_')).length} napi_*, ${fromNode.filter((s) => s.name.startsWith('uv_')).length} uv_*` +
    `${hooks.length ? `, weak hooks ${hooks.map((s) => s.name).join(', ')}` : ''}`);

  const leaked = leakedBuildPaths(buf);
  if (leaked.length) problems.push(`contains build paths: ${leaked.join(', ')}`);
  return { problems, notes };
}

if (require.main === module) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    // scripts/build.js makes the release artefact on linux-x64 only (elsewhere it copies a local
    // build or has nothing to build).
    console.log(`verify: skipped on ${process.platform}-${process.arch}: the release artefact is built and checked on linux-x64`);
    process.exit(0);
  }
  runVerifyCli({ packageName: '@socketpoll/epoll-linux-x64', packageDir: path.join(__dirname, '..'), verify, okNote: '' });
}

module.exports = { verify, GLIBC_BASELINE };
