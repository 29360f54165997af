'use strict';
// Checks a Linux socketpoll.node against its platform row by reading its ELF dynamic section and
// dynamic symbols (elf.js: no dependencies, no binutils):
//   - an ELF shared object (ET_DYN, no program interpreter) for the row's CPU: x86-64, AArch64, or
//     32-bit ARM with the hard-float ABI;
//   - glibc rows: every versioned import is GLIBC_x.y with x.y <= the floor in the row's Zig target
//     (2.17), so it loads on that glibc and later; NEEDED only glibc's own libraries (libc.so.6 and,
//     since before glibc 2.34 their functions lived in files of their own, libpthread/libdl/libm,
//     and the dynamic loader for __tls_get_addr);
//   - musl rows: no symbol versions at all (no GLIBC_ one can sneak in) and NEEDED only musl's
//     libc.so (musl's libc, loader and libpthread are one file);
//   - no libstdc++/libgcc_s/libc++ NEEDED and no GLIBCXX_/CXXABI_/GCC_ versions (libc++ is linked
//     in statically);
//   - exports the Node-API entry points only; imports epoll_create1/epoll_ctl/epoll_wait;
//     napi_*/node_api_* undefined and unversioned (the runtime provides them); no uv_* at all
//     (Deno refuses to load such a file and Bun aborts when one is called: the binding looks libuv
//     up at run time); every other import is from the C library or a weak hook of the C runtime
//     (__gmon_start__, _ITM_*);
//   - DF_1_NODELETE (a worker-only load must not be unmapped: see zig-addon.js), no TEXTREL, no
//     RPATH/RUNPATH, a non-executable stack (glibc 2.41 refuses to dlopen one that asks for it);
//   - contains no path of the machine that built it.
const fs = require('node:fs');
const { leakedBuildPaths } = require('./artefact-checks');
const { ENTRY_POINTS } = require('../addon-sources');
const elf = require('./elf');

const MACHINES = {
  x64: { machine: elf.EM.X86_64, bits: 64, label: 'x86-64', loader: 'ld-linux-x86-64.so.2' },
  arm64: { machine: elf.EM.AARCH64, bits: 64, label: 'AArch64', loader: 'ld-linux-aarch64.so.1' },
  arm: { machine: elf.EM.ARM, bits: 32, label: 'ARM (hard float)', loader: 'ld-linux-armhf.so.3' },
};
const GLIBC_LIBS = ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2'];
const MUSL_LIBS = ['libc.so'];
const FROM_RUNTIME = /^(napi|node_api)_/;
const LIBUV = /^uv_/;
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

const fmt = (v) => v.join('.').replace(/\.0$/, '');

/** The glibc floor in a row's Zig target (x86_64-linux-gnu.2.17 -> [2, 17]). */
function glibcFloor(row) {
  const m = /-gnu\w*\.(\d+)\.(\d+)$/.exec(row.zigTarget);
  if (!m) throw new Error(`${row.zigTarget} names no glibc version`);
  return [Number(m[1]), Number(m[2])];
}

function list(names, max = 10) {
  return names.slice(0, max).join(', ') + (names.length > max ? ` (+${names.length - max})` : '');
}

/** { problems, notes } for `file` as the binary of platform row `row`. */
function verify(file, row) {
  const problems = [];
  const notes = [];
  const buf = fs.readFileSync(file);
  const want = MACHINES[row.arch];
  if (!want) return { problems: [`no ELF machine known for arch ${row.arch}`], notes };
  let e;
  try {
    e = elf.parse(buf);
  } catch (err) {
    return { problems: [err.message], notes };
  }
  if (e.machine !== want.machine || e.bits !== want.bits) problems.push(`machine ${e.machine} (ELF${e.bits}), expected ${want.label} (${want.machine}, ELF${want.bits})`);
  if (row.arch === 'arm' && !(e.flags & elf.EF_ARM_ABI_FLOAT_HARD)) problems.push('not built for the ARM hard-float ABI (gnueabihf)');
  if (e.type !== 'DYN' || e.interp) problems.push(`ELF type ${e.type}${e.interp ? ' with a program interpreter' : ''}, expected a shared object`);
  notes.push(`ELF${e.bits} ${want.label} ${e.type === 'DYN' ? 'shared object' : e.type}, ${buf.length} bytes`);

  // Libraries.
  const allowed = row.libc === 'musl' ? MUSL_LIBS : [...GLIBC_LIBS, want.loader];
  const badNeeded = e.needed.filter((n) => !allowed.includes(n));
  if (badNeeded.length) problems.push(`NEEDED beyond ${row.libc}'s own libraries: ${badNeeded.join(', ')}`);
  const libcName = row.libc === 'musl' ? 'libc.so' : 'libc.so.6';
  if (!e.needed.includes(libcName)) problems.push(`does not link ${libcName}`);
  notes.push(`NEEDED: ${e.needed.join(', ')}`);
  if (e.rpath.length) problems.push(`has RPATH/RUNPATH ${e.rpath.join(', ')}`);
  if (e.textrel) problems.push('has text relocations (TEXTREL)');
  if (!e.hasGnuStack || e.execStack) problems.push('asks for an executable stack (no PT_GNU_STACK, or PF_X on it)');
  if (!e.nodelete) problems.push('not linked -z nodelete: a load that happens only in a worker thread crashes the process at exit');

  // Versions.
  const imports = e.symbols.filter((s) => !s.defined && s.name);
  const versionNames = [...new Set(imports.map((s) => s.version).filter(Boolean))];
  if (row.libc === 'musl') {
    if (versionNames.length) problems.push(`imports symbol versions (musl has none): ${list(versionNames)}`);
    notes.push('symbol versions: none (musl)');
  } else {
    const floor = glibcFloor(row);
    const foreign = versionNames.filter((v) => !glibcVersion(v));
    if (foreign.length) problems.push(`imports versions other than GLIBC_x.y: ${list(foreign)}`);
    const glibc = versionNames.map(glibcVersion).filter(Boolean).sort((a, b) => (newer(a, b) ? 1 : newer(b, a) ? -1 : 0));
    const highest = glibc[glibc.length - 1];
    if (highest && newer(highest, floor)) {
      const offenders = imports.filter((s) => glibcVersion(s.version) && newer(glibcVersion(s.version), floor));
      problems.push(`needs glibc ${fmt(highest)} > ${fmt(floor)}: ${list(offenders.map((s) => `${s.name}@${s.version}`))}`);
    }
    notes.push(`glibc versions: ${glibc.map(fmt).join(', ')} (highest ${highest ? fmt(highest) : 'none'}; floor ${fmt(floor)})`);
  }
  if (e.definedVersions.length) problems.push(`defines symbol versions ${list(e.definedVersions)}`);

  // Exports.
  const exported = e.symbols.filter((s) => s.defined && s.bind !== 'LOCAL' && s.visibility !== 'HIDDEN' && s.visibility !== 'INTERNAL');
  const names = exported.map((s) => s.name);
  if (!names.includes('napi_register_module_v1')) problems.push('napi_register_module_v1 is not exported');
  const extra = names.filter((n) => !ENTRY_POINTS.includes(n));
  if (extra.length) problems.push(`exports more than the Node-API entry points: ${list(extra)}`);
  notes.push(`exports: ${names.join(', ')}`);

  // Imports.
  const fromLibc = (s) => (row.libc === 'musl' ? !s.version && !FROM_RUNTIME.test(s.name) && s.bind !== 'WEAK' : glibcVersion(s.version));
  for (const name of EPOLL_IMPORTS) {
    const s = imports.find((i) => i.name === name);
    if (!s) problems.push(`does not import ${name}`);
    else if (!fromLibc(s)) problems.push(`${name} is not bound to the C library`);
  }
  const libuv = imports.filter((s) => LIBUV.test(s.name));
  if (libuv.length) problems.push(`imports libuv at load time (Deno refuses the file, Bun aborts on a call): ${list(libuv.map((s) => s.name))}`);
  const fromRuntime = imports.filter((s) => FROM_RUNTIME.test(s.name));
  const versionedRuntime = fromRuntime.filter((s) => s.version);
  if (versionedRuntime.length) problems.push(`Node-API imports bound to a version: ${list(versionedRuntime.map((s) => `${s.name}@${s.version}`))}`);
  const rest = imports.filter((s) => !FROM_RUNTIME.test(s.name) && !LIBUV.test(s.name) && !fromLibc(s));
  const stray = rest.filter((s) => !(s.bind === 'WEAK' && WEAK_RUNTIME_HOOKS.test(s.name)));
  if (stray.length) problems.push(`imports neither from the C library nor from the runtime: ${list(stray.map((s) => s.name))}`);
  const hooks = rest.filter((s) => !stray.includes(s));
  notes.push(`imports: ${imports.filter(fromLibc).length} from ${row.libc} (epoll_*, pthread_*, ...), ` +
    `${fromRuntime.length} napi_*` +
    `${hooks.length ? `, weak hooks ${hooks.map((s) => s.name).join(', ')}` : ''}`);

  const leaked = leakedBuildPaths(buf);
  if (leaked.length) problems.push(`contains build paths: ${leaked.join(', ')}`);
  return { problems, notes };
}

/** The libuv symbols an ELF file imports (none may: see the header). */
function libuvImports(file) {
  return elf.parse(fs.readFileSync(file)).symbols.filter((s) => !s.defined && LIBUV.test(s.name ?? '')).map((s) => s.name);
}

module.exports = { verify, glibcFloor, MACHINES, libuvImports };

if (require.main === module) {
  // node verify-elf.js --no-libuv FILE...: the libuv rule alone, for addons that are no release
  // artefact (the node-gyp builds the suites load).
  const [flag, ...files] = process.argv.slice(2);
  if (flag !== '--no-libuv' || files.length === 0) {
    console.error('usage: node verify-elf.js --no-libuv FILE...');
    process.exit(2);
  }
  let failed = 0;
  for (const file of files) {
    const uv = libuvImports(file);
    if (uv.length) {
      failed++;
      console.error(`${file}: imports libuv at load time (Deno refuses it, Bun aborts on a call): ${uv.join(', ')}`);
    }
  }
  if (failed) process.exit(1);
  console.log(`no uv_* import in ${files.length} addon(s)`);
}
