'use strict';
// The platform table (packages/core/src/platforms.ts) and the C library detection (src/runtime.ts)
// for the build and packaging scripts, which run before core is compiled: each file is transpiled
// on the fly with core's TypeScript (they import only types and Node's modules), so each fact has
// one source and no generated copy.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const coreDir = path.resolve(__dirname, '..', '..', 'core');

/** A module of core's src/ that imports only types or Node's own modules, transpiled on the fly. */
function loadCoreSource(name) {
  const file = path.join(coreDir, 'src', name);
  const ts = require(require.resolve('typescript', { paths: [coreDir] }));
  const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  });
  const m = new Module(file);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(outputText, file);
  return m.exports;
}

const table = loadCoreSource('platforms.ts');
/** This machine's C library, as the loader sees it (core's src/runtime.ts). */
const { currentLibc } = loadCoreSource('runtime.ts');
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

module.exports = { ...table, packageDir, selectRows, repoRoot, currentLibc };
