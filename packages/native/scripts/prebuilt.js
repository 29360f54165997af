#!/usr/bin/env node
'use strict';
// The one entry point for the prebuilt backend packages, driven by the platform table
// (packages/core/src/platforms.ts, read by platform-table.js):
//
//   node scripts/prebuilt.js build [name...]                 cross-build each row's socketpoll.node
//                                                           into packages/<name>/ (Zig, on linux-x64)
//   node scripts/prebuilt.js build --local                   copy this machine's node-gyp build into
//                                                           its row (no Zig: what `pnpm start` needs;
//                                                           not a release artefact)
//   node scripts/prebuilt.js verify [name...] [--reproducible]  check each binary against its row
//                                                           (ELF or Mach-O), optionally rebuilt
//                                                           and compared byte for byte
//   node scripts/prebuilt.js test-helper <name> <out>        the test-only fd helper addon for a row's
//                                                           target (the suites' helper under qemu)
//   node scripts/prebuilt.js manifests [--check]             write (or check, failing on drift) each
//                                                           package's package.json, README.md and
//                                                           LICENSE, the source selectors, core's
//                                                           optionalDependencies and the changesets
//                                                           fixed group
//
// Names are package names with or without the @socketpoll/ scope; none means every row.
// Elsewhere than linux-x64 (the Zig package runs there only) `build` makes no release artefacts: on
// Linux it copies the local node-gyp build of the backend into the row of this machine, on macOS
// likewise for kqueue, so `pnpm build && pnpm test` runs on the native backend anywhere.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const table = require('./platform-table');
const { buildAddon, buildTestAddon, isMachO, ZigAddonError } = require('./prebuilt/zig-addon');
const manifests = require('./prebuilt/manifests');
const verifyElf = require('./prebuilt/verify-elf');
const verifyMacho = require('./prebuilt/verify-macho');

const nativeDir = path.resolve(__dirname, '..');
const canCrossBuild = process.platform === 'linux' && process.arch === 'x64';

function fail(message) {
  console.error(`prebuilt: ${message}`);
  process.exit(1);
}

const addonFile = (row) => path.join(table.packageDir(row.packageName), 'socketpoll.node');
const short = (row) => row.packageName.replace(/^@socketpoll\//, '');

/** This machine's row, when the local node-gyp build stands in for the release artefact. */
function localRow(rows) {
  const libc = table.currentLibc();
  return rows.find((r) => r.platform === process.platform && r.arch === process.arch && (r.libc ?? libc) === libc);
}

/** Puts this machine's node-gyp build of its backend into its row's package (not a release artefact). */
function copyLocalBuild(rows) {
  const row = localRow(rows);
  if (!row) return console.log(`prebuilt: no row of the table is for ${process.platform}-${process.arch}: nothing to copy`);
  const built = path.join(nativeDir, 'gyp', 'build', 'Release', `socketpoll_${row.backend}.node`);
  if (!fs.existsSync(built)) fail(`${built} is missing: build packages/native first (node scripts/build-addons.js)`);
  const tmp = `${addonFile(row)}.tmp-${process.pid}`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, addonFile(row));
  console.log(`prebuilt: ${short(row)}: copied the local node-gyp build (not a release artefact)`);
}

function build(rows, local) {
  if (local || !canCrossBuild) {
    if (!local) console.log('prebuilt: release artefacts are cross-built on linux-x64');
    return copyLocalBuild(rows);
  }
  for (const row of rows) {
    const started = Date.now();
    try {
      buildAddon(row, addonFile(row));
    } catch (e) {
      if (e instanceof ZigAddonError) fail(`${short(row)}: ${e.message}`);
      throw e;
    }
    console.log(`prebuilt: ${short(row)} (${row.zigTarget}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** { problems, notes } of one row's binary. */
function verifyRow(row, file = addonFile(row)) {
  if (!fs.existsSync(file)) return { problems: [`${file} is missing: run \`pnpm build\``], notes: [] };
  return (isMachO(row.zigTarget) ? verifyMacho : verifyElf).verify(file, row);
}

function verify(rows, reproducible) {
  if (!canCrossBuild) return console.log(`prebuilt: verify skipped on ${process.platform}-${process.arch}: the release artefacts are built and checked on linux-x64`);
  let failed = 0;
  for (const row of rows) {
    const { problems, notes } = verifyRow(row);
    if (reproducible && problems.length === 0) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-rebuild-'));
      try {
        const again = buildAddon(row, path.join(dir, 'socketpoll.node'));
        if (fs.readFileSync(again).equals(fs.readFileSync(addonFile(row)))) notes.push('reproducible: a rebuild gives the same bytes');
        else problems.push('a rebuild gives different bytes');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`${short(row)} (${row.zigTarget}):`);
    for (const n of notes) console.log(`  ${n}`);
    for (const p of problems) console.error(`  FAIL ${p}`);
    if (problems.length) failed++;
  }
  if (failed) fail(`${failed} of ${rows.length} binaries failed verification`);
  console.log(`prebuilt: ${rows.length} binaries verified`);
}

if (require.main === module) {
  const [command, ...rest] = process.argv.slice(2);
  const names = rest.filter((a) => !a.startsWith('--'));
  let rows;
  try {
    rows = table.selectRows(command === 'test-helper' ? names.slice(0, 1) : names);
  } catch (e) {
    fail(e.message);
  }
  if (command === 'build') build(rows, rest.includes('--local'));
  else if (command === 'verify') verify(rows, rest.includes('--reproducible'));
  else if (command === 'test-helper') {
    if (rows.length !== 1 || !names[1]) fail('usage: prebuilt.js test-helper <name> <out>');
    buildTestAddon(rows[0], 'src/test/node/fd_helper.c', names[1]);
  } else if (command === 'manifests') manifests.run({ check: rest.includes('--check') });
  else fail('usage: prebuilt.js build|verify|manifests [name...] [--local] [--reproducible] [--check]');
}

module.exports = { verifyRow, addonFile };
