'use strict';
// Checks both prebuilt verifiers (packages/*/scripts/verify.js) apply to a built addon, whatever
// its format: no path of the build machine inside, and the same bytes when built again.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Build-machine paths (home, the checkout, the temp dir) found in the file's bytes. */
function leakedBuildPaths(buf) {
  const text = buf.toString('latin1');
  return [os.homedir(), REPO_ROOT, os.tmpdir() + '/'].filter((p) => p && p.length > 1 && text.includes(p));
}

/** Rebuilds with `node <buildScript> --out <tmp>` and compares: null when identical, else why not. */
function rebuildDiffers(file, buildScript) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-rebuild-'));
  try {
    const tmp = path.join(dir, 'socketpoll.node');
    const r = spawnSync(process.execPath, [buildScript, '--out', tmp], { stdio: 'inherit' });
    if (r.status !== 0) return 'the rebuild failed';
    return fs.readFileSync(tmp).equals(fs.readFileSync(file)) ? null : 'a rebuild gives different bytes';
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The command line both verifiers share: `verify.js [file] [--reproducible]`. Runs `verify(file)`
 * (which returns { problems, notes }), adds the reproducibility check on request, prints, and exits
 * non-zero on any problem.
 */
function runVerifyCli({ packageName, packageDir, verify, okNote = '' }) {
  const args = process.argv.slice(2);
  const file = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(packageDir, 'socketpoll.node'));
  if (!fs.existsSync(file)) {
    console.error(`verify: ${file} is missing: run \`pnpm --filter ${packageName} build\``);
    process.exit(1);
  }
  const { problems, notes } = verify(file);
  if (args.includes('--reproducible')) {
    const why = rebuildDiffers(file, path.join(packageDir, 'scripts', 'build.js'));
    if (why) problems.push(why);
    else notes.push('reproducible: a rebuild gives the same bytes');
  }
  for (const n of notes) console.log(`  ${n}`);
  if (problems.length) {
    for (const p of problems) console.error(`verify: FAIL ${p}`);
    process.exit(1);
  }
  console.log(`verify: ${path.relative(process.cwd(), file)} OK${okNote}`);
}

module.exports = { leakedBuildPaths, rebuildDiffers, runVerifyCli };
