'use strict';
// The platform table (packages/core/src/platforms.ts) for the build and packaging scripts, which
// run before core is compiled: the file is transpiled on the fly with core's TypeScript (it only
// imports types), so the table has one source and no generated copy.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const coreDir = path.resolve(__dirname, '..', '..', 'core');
const tableFile = path.join(coreDir, 'src', 'platforms.ts');

function load() {
  const ts = require(require.resolve('typescript', { paths: [coreDir] }));
  const { outputText } = ts.transpileModule(fs.readFileSync(tableFile, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: tableFile,
  });
  const m = new Module(tableFile);
  m.filename = tableFile;
  m._compile(outputText, tableFile);
  return m.exports;
}

const table = load();
const repoRoot = path.resolve(coreDir, '..', '..');

/** The workspace folder of a published package: packages/<name without the scope>. */
function packageDir(packageName) {
  return path.join(repoRoot, 'packages', packageName.replace(/^@socketpoll\//, ''));
}

/** Rows selected by package names (or all of them); an unknown name is an error. */
function selectRows(names) {
  if (!names || names.length === 0) return table.PLATFORM_PACKAGES;
  return names.map((n) => {
    const row = table.PLATFORM_PACKAGES.find((r) => r.packageName === n || r.packageName === `@socketpoll/${n}`);
    if (!row) throw new Error(`no platform row for ${n}; rows: ${table.PLATFORM_PACKAGES.map((r) => r.packageName).join(', ')}`);
    return row;
  });
}

module.exports = { ...table, packageDir, selectRows, repoRoot };
