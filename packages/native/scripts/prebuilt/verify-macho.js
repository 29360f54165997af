'use strict';
// Checks a macOS socketpoll.node against its platform row without a Mac, by reading its Mach-O load
// commands (macho.js, no dependencies):
//   - a 64-bit Mach-O for the row's CPU (arm64 or x86_64), a dylib (or bundle): something Node's
//     dlopen() takes on macOS;
//   - the lowest macOS it runs on (LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX) is the one in the
//     row's Zig target;
//   - exports napi_register_module_v1 (and at most node_api_module_get_api_version_v1), nothing else;
//   - links /usr/lib/libSystem.B.dylib and no other dylib (libc++ is linked in statically);
//   - imports kqueue and kevent from libSystem; every other import is either from libSystem or
//     a napi_* / node_api_* symbol left to dynamic lookup (-undefined dynamic_lookup: they are
//     resolved in the process that loads the addon); no uv_* (the binding looks libuv up at run time);
//   - has LC_CODE_SIGNATURE with an ad-hoc signature whose page hashes match the file (arm64 macOS
//     refuses to run unsigned code);
//   - contains no path of the machine that built it.
const fs = require('node:fs');
const path = require('node:path');
const { leakedBuildPaths } = require('./artefact-checks');
const { ENTRY_POINTS: C_ENTRY_POINTS } = require('../addon-sources');
const macho = require('./macho');

const ENTRY_POINTS = C_ENTRY_POINTS.map((s) => `_${s}`);
const CPUS = { arm64: { type: macho.CPU_TYPE.ARM64, label: 'arm64' }, x64: { type: macho.CPU_TYPE.X86_64, label: 'x86_64' } };

/** The macOS floor in a row's Zig target (aarch64-macos.11.0 -> '11.0'). */
const macosFloor = (row) => /-macos\.([\d.]+)$/.exec(row.zigTarget)?.[1];
const LIBSYSTEM = '/usr/lib/libSystem.B.dylib';
const DYNAMIC_IMPORT = /^_(napi|node_api)_/;

/** { problems, notes } for `file` as the binary of platform row `row`. */
function verify(file, row) {
  const problems = [];
  const notes = [];
  const buf = fs.readFileSync(file);
  let m;
  try {
    m = macho.parse(buf);
  } catch (e) {
    return { problems: [e.message], notes };
  }
  const cpu = CPUS[row.arch];
  if (!cpu) return { problems: [`no Mach-O CPU type known for arch ${row.arch}`], notes };
  if (m.cputype !== cpu.type) problems.push(`cpu type 0x${m.cputype.toString(16)}, expected ${cpu.label}`);
  if (!macho.FILETYPES[m.filetype]) problems.push(`file type ${m.filetype}, expected a dylib or bundle`);
  notes.push(`Mach-O 64-bit ${cpu.label} ${macho.FILETYPES[m.filetype] ?? m.filetype}, ${buf.length} bytes`);
  const floor = macosFloor(row);
  if (!m.minOs) problems.push('states no minimum macOS version (no LC_BUILD_VERSION)');
  else if (m.minOs !== floor) problems.push(`needs macOS ${m.minOs}, expected ${floor} (the row's target)`);
  else notes.push(`runs on macOS ${m.minOs} and later`);

  const exported = [...m.exports.keys()];
  if (!exported.includes('_napi_register_module_v1')) problems.push('napi_register_module_v1 is not exported');
  const extra = exported.filter((n) => !ENTRY_POINTS.includes(n));
  if (extra.length) problems.push(`exports more than the Node-API entry points: ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ` (+${extra.length - 10})` : ''}`);
  notes.push(`exports: ${exported.join(', ')}`);

  const dylibs = m.dylibs.map((d) => d.name);
  if (dylibs.length !== 1 || dylibs[0] !== LIBSYSTEM) problems.push(`links ${dylibs.join(', ') || 'nothing'}; expected ${LIBSYSTEM} only`);
  notes.push(`dylibs: ${dylibs.join(', ')}`);

  const imports = macho.imports(m);
  for (const want of ['_kqueue', '_kevent']) {
    const imp = imports.find((i) => i.name === want);
    if (!imp) problems.push(`does not import ${want}`);
    else if (imp.from !== LIBSYSTEM) problems.push(`${want} comes from ${imp.from}, expected libSystem`);
  }
  const dynamic = imports.filter((i) => i.from === 'dynamic lookup');
  const badDynamic = dynamic.filter((i) => !DYNAMIC_IMPORT.test(i.name));
  if (badDynamic.length) problems.push(`left to dynamic lookup but not Node-API (libuv may only be looked up at run time): ${badDynamic.map((i) => i.name).join(', ')}`);
  const elsewhere = imports.filter((i) => i.from !== 'dynamic lookup' && i.from !== LIBSYSTEM);
  if (elsewhere.length) problems.push(`imports from elsewhere: ${elsewhere.map((i) => `${i.name} (${i.from})`).join(', ')}`);
  notes.push(`imports: ${imports.length - dynamic.length} from libSystem (kqueue, kevent, ...), ` +
    `${dynamic.length} napi_* by dynamic lookup`);

  const sig = macho.checkSignature(buf, m);
  if (!sig.present) problems.push('no LC_CODE_SIGNATURE');
  else if (sig.error) problems.push(`code signature: ${sig.error}`);
  else {
    if (sig.badPages.length) problems.push(`code signature: hashes of pages ${sig.badPages.join(', ')} do not match`);
    if (!sig.adhoc) problems.push('code signature is not ad-hoc (unexpected for a linker signature)');
    notes.push(`code signature: ad-hoc, ${sig.directory.nCodeSlots} ${sig.algo} page hashes of ${sig.directory.pageSize} bytes, all match`);
  }

  const leaked = leakedBuildPaths(buf);
  if (leaked.length) problems.push(`contains build paths: ${leaked.join(', ')}`);
  return { problems, notes };
}

module.exports = { verify, macosFloor };
