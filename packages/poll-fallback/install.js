#!/usr/bin/env node
'use strict';
// install.js — builds the backends of @socketpoll/core from the sources shipped in ./native, with
// node-gyp, following the build-time detection of the C library: the platform's own mechanism
// (epoll on Linux and Android, kqueue on macOS and the BSDs) and poll(), which builds on any POSIX
// system. Each lands next to this file as socketpoll_<backend>.node; the core loader prefers the
// native mechanism and uses poll when asked (`backend: 'poll'`).
//
// This package is an optional dependency of @socketpoll/core on every machine but Windows, so it
// is installed everywhere; this script decides whether to compile:
//   - yes when the project asked for it: SOCKETPOLL_BUILD_FROM_SOURCE=1, or the project depends on
//     it itself (npm: it is not only an optional dependency; the project's package.json lists it;
//     pnpm: linked at the project's root; yarn 1: named by `yarn add`);
//   - no when a prebuilt package of core's platform table that fits this machine is installed
//     beside it (platforms.json, written from the table when this package is packed): it says so
//     and exits 0;
//   - yes otherwise: no prebuilt fits this machine, or the one that fits was not installed.
// The decision reads what the package manager installed, so an install for another machine
// (npm --os/--cpu/--libc, pnpm supportedArchitectures) compiles exactly where that machine would.
//
// Node's headers come from the running Node's install when it has them (<prefix>/include/node), so
// node-gyp downloads nothing. A failed build leaves the package installed, prints what is missing
// and the command that builds it with the package manager that ran the install, and writes
// build-error.log here: the loader's error quotes it. With SOCKETPOLL_BUILD_FROM_SOURCE=1 a failed
// build fails the install; the package manager may then remove everything it installed (npm
// does), so the message says to install the tools and run the same install command again, and
// the log goes to the temporary folder, where it survives.
//
// Inside the socketpoll workspace it builds nothing (turbo builds packages/native); `node install.js
// --from-workspace` (this package's build script) copies those builds in.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PACKAGE = '@socketpoll/poll-fallback';
const here = __dirname;
const LOG = path.join(here, 'build-error.log');
// Why this install built nothing (a prebuilt fits and is installed): the loader's advice reads it.
const SKIPPED = path.join(here, 'build-skipped.log');
// Forced builds log where a rolled-back install cannot remove it.
const STRICT_LOG = path.join(os.tmpdir(), 'socketpoll-poll-fallback-build-error.log');
const strict = process.env.SOCKETPOLL_BUILD_FROM_SOURCE === '1';

/** The package manager running this install, from its user agent: npm, pnpm, yarn, bun. */
function packageManager(agent = process.env.npm_config_user_agent ?? '') {
  const name = agent.split('/')[0];
  return ['npm', 'pnpm', 'yarn', 'bun'].includes(name) ? name : 'npm';
}

/** The command that runs this build again in an installed project, per package manager. */
const REBUILD = {
  npm: `npm rebuild ${PACKAGE}`,
  pnpm: `pnpm rebuild ${PACKAGE}`,
  yarn: 'yarn install --force',
  bun: `bun pm trust ${PACKAGE}`,
};

/** The C library of this Linux machine, as core's loader detects it first (glibc or musl). */
function currentLibc() {
  if (process.platform !== 'linux') return undefined;
  try {
    return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
  } catch {
    return 'musl';
  }
}

/** `linux-x64-glibc`, `darwin-arm64`, … */
function machineKey(libc = currentLibc()) {
  return `${process.platform}-${process.arch}${libc ? `-${libc}` : ''}`;
}

/** The prebuilt packages of core's platform table (written at pack time; none in the workspace). */
function platformRows() {
  try {
    return JSON.parse(fs.readFileSync(path.join(here, 'platforms.json'), 'utf8'));
  } catch {
    return [];
  }
}

const realDir = (dir) => {
  try {
    return fs.realpathSync(dir);
  } catch {
    return undefined;
  }
};

/** Where a package is installed as seen from this package or from @socketpoll/core, or undefined. */
function installedDir(name, env = process.env) {
  const from = [here];
  try {
    const project = projectDirs(packageManager(env.npm_config_user_agent), env);
    const core = require.resolve('@socketpoll/core/package.json', { paths: [...project, here] });
    from.push(realDir(path.dirname(core)));
  } catch {
    // core is not installed (this package was installed by itself)
  }
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: from.filter(Boolean) }));
  } catch {
    return undefined;
  }
}

/** The project a folder inside its node_modules belongs to (the part before the first `node_modules`), or undefined. */
function projectHolding(dir) {
  const parts = dir.split(path.sep);
  const at = parts.indexOf('node_modules');
  return at > 0 ? parts.slice(0, at).join(path.sep) || path.sep : undefined;
}

/** The folders of the project this install is for: their package.json and node_modules tell what it depends on. */
function projectDirs(manager, env = process.env) {
  // npm and pnpm set INIT_CWD to the folder they were run in. yarn 1 sets it only when it is not
  // set already, so a yarn run from another package manager's script (or from a shell that
  // exported it) passes on that caller's folder: the project holding this package comes first.
  const dirs = (manager === 'yarn' ? [projectHolding(here), env.INIT_CWD] : [env.INIT_CWD]).filter(Boolean);
  return [...new Set(dirs)];
}

/** Why the project asked for this build itself, or undefined. */
function askedFor(env = process.env) {
  if (env.SOCKETPOLL_BUILD_FROM_SOURCE === '1') return 'SOCKETPOLL_BUILD_FROM_SOURCE=1';
  const manager = packageManager(env.npm_config_user_agent);
  // npm: false flags are exported as ''; `optional` is true only when every path to this package
  // is an optional dependency (core's), so '' means something depends on it outright.
  if (manager === 'npm' && env.npm_package_optional === '') return 'the project depends on it (not only through @socketpoll/core)';
  for (const project of projectDirs(manager, env)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
      for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
        if (pkg[field]?.[PACKAGE]) return `the project's package.json lists it in ${field}`;
      }
    } catch {
      // no readable package.json there
    }
    // pnpm links only the project's own dependencies into its node_modules (the rest lives in .pnpm).
    const linked = realDir(path.join(project, 'node_modules', ...PACKAGE.split('/')));
    if (manager === 'pnpm' && linked && linked === realDir(here) && linked.split(path.sep).includes('.pnpm')) return 'the project depends on it';
  }
  if (manager === 'yarn') {
    try {
      const { original } = JSON.parse(env.npm_config_argv);
      if (original.some((arg) => arg === PACKAGE || arg.startsWith(`${PACKAGE}@`))) return 'the project is adding it';
    } catch {
      // no argv from yarn
    }
  }
  return undefined;
}

/**
 * Whether to compile here, and why: { build, why }.
 */
function decide(env = process.env) {
  const asked = askedFor(env);
  if (asked) return { build: true, why: asked };
  const libc = currentLibc();
  const fits = platformRows().filter((r) => r.platform === process.platform && r.arch === process.arch && (!r.libc || r.libc === libc));
  const installed = fits.find((r) => installedDir(r.packageName, env));
  if (installed) return { build: false, why: `${installed.packageName} fits this machine (${machineKey(libc)}) and is installed` };
  if (fits.length) return { build: true, why: `${fits.map((r) => r.packageName).join(', ')} fits this machine but is not installed` };
  return { build: true, why: `no prebuilt package fits this machine (${machineKey(libc)})` };
}

/** The backends to build here, best first. */
function backends(platform = process.platform) {
  if (platform === 'linux' || platform === 'android') return ['epoll', 'poll'];
  if (platform === 'darwin' || platform.endsWith('bsd')) return ['kqueue', 'poll'];
  return ['poll'];
}

const addonFile = (backend) => path.join(here, `socketpoll_${backend}.node`);

function put(from, to) {
  const tmp = `${to}.tmp-${process.pid}`; // by rename: a loaded .node must never be rewritten in place
  fs.copyFileSync(from, tmp);
  fs.renameSync(tmp, to);
}

/** Inside the monorepo: the sources are in ../native and this folder is not under node_modules. */
function inWorkspace() {
  return fs.existsSync(path.join(here, '..', 'native', 'gyp', 'binding.gyp')) && !here.split(path.sep).includes('node_modules');
}

/** The tools node-gyp needs that are not on PATH. */
function missingTools() {
  const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  const missing = [];
  if (!onPath('python3') && !onPath('python')) missing.push('python3');
  if (!onPath('make') && !onPath('gmake')) missing.push('make');
  if (!onPath(process.env.CXX || 'c++') && !onPath('g++') && !onPath('clang++')) missing.push('a C/C++ compiler (g++ or clang++)');
  return missing;
}

const TOOLS = 'python3, make and a C/C++ compiler (Debian/Ubuntu: apt-get install python3 make g++; Alpine: apk add python3 make g++; macOS: xcode-select --install)';

/** The command line of a yarn 1 install, when yarn exported it. */
function yarnCommand(env = process.env) {
  try {
    return `yarn ${JSON.parse(env.npm_config_argv).original.join(' ')}`;
  } catch {
    return undefined;
  }
}

/** What to print when the build failed: { text, log }. */
function failureAdvice(message, env = process.env) {
  const manager = packageManager(env.npm_config_user_agent);
  if (env.SOCKETPOLL_BUILD_FROM_SOURCE === '1') {
    const again = (manager === 'yarn' && yarnCommand(env)) || `${manager} ${env.npm_command || 'install'} …`;
    return {
      log: STRICT_LOG,
      text:
        `ERROR ${PACKAGE}: ${message}.\nSOCKETPOLL_BUILD_FROM_SOURCE=1 makes a failed build fail the install, and the package manager ` +
        `may remove what it installed (npm does), so there is nothing left to rebuild. Install ${TOOLS}, then run the same ` +
        `install command again, as it was (${again}).\nOr run it with SOCKETPOLL_BUILD_FROM_SOURCE unset ` +
        '(`unset SOCKETPOLL_BUILD_FROM_SOURCE`) to install without forcing the source build.',
    };
  }
  return {
    log: LOG,
    text: `WARNING ${PACKAGE}: ${message}.\nInstall ${TOOLS}, then build it with:\n  ${REBUILD[manager]}`,
  };
}

function fail(why, output = '') {
  const message = `could not build ${PACKAGE}: ${why}`;
  const { text, log } = failureAdvice(message);
  fs.writeFileSync(log, `${message}\n${output ? `\n--- node-gyp output (last lines) ---\n${output.split('\n').slice(-40).join('\n')}\n` : ''}`);
  console.warn(`\n${text}\n(details: ${log})\n`);
  process.exit(strict ? 1 : 0); // stay installed, so the loader can say why
}

/** What was built, best first: the core loader reads it. */
function writeBuilt() {
  fs.writeFileSync(path.join(here, 'built.json'), `${JSON.stringify(backends())}\n`);
}

function fromWorkspace() {
  const release = path.join(here, '..', 'native', 'gyp', 'build', 'Release');
  for (const backend of backends()) {
    const built = path.join(release, `socketpoll_${backend}.node`);
    if (!fs.existsSync(built)) {
      console.error(`poll-fallback: ${built} is missing; build packages/native first (pnpm build)`);
      process.exit(1);
    }
    put(built, addonFile(backend));
  }
  writeBuilt();
  console.log(`poll-fallback: copied the workspace builds of ${backends().join(', ')}`);
}

function build() {
  if (process.platform === 'win32') fail('Windows has no readiness API for arbitrary descriptors (epoll, kqueue or poll)');
  const { build: wanted, why } = decide();
  if (!wanted) {
    // What an earlier build left (e.g. with SOCKETPOLL_BUILD_FROM_SOURCE=1) stays usable.
    fs.writeFileSync(SKIPPED, `nothing built on install: ${why}\n`);
    console.log(
      `poll-fallback: nothing to build: ${why}. To build the source backends too (backend: 'poll'), add ${PACKAGE} ` +
        'to your dependencies, or set SOCKETPOLL_BUILD_FROM_SOURCE=1.',
    );
    return;
  }
  console.log(`poll-fallback: building ${backends().join(' and ')} from source: ${why}`);
  fs.rmSync(LOG, { force: true });
  fs.rmSync(SKIPPED, { force: true });
  fs.rmSync(STRICT_LOG, { force: true });
  fs.rmSync(path.join(here, 'built.json'), { force: true });
  const missing = missingTools();
  if (missing.length) fail(`missing ${missing.join(', ')}`);
  const nativeDir = path.join(here, 'native');
  const gypDir = path.join(nativeDir, 'gyp');
  if (!fs.existsSync(path.join(gypDir, 'binding.gyp'))) fail(`no sources: ${gypDir}/binding.gyp is missing`);
  const { nodeGypEnv, nodeGypBin } = require(path.join(nativeDir, 'scripts', 'node-gyp-env.js'));
  const env = nodeGypEnv();
  const gyp = fs.existsSync(nodeGypBin()) ? [process.execPath, nodeGypBin()] : ['node-gyp'];
  // One target at a time: every target compiles the same binding sources, which gyp's make
  // output puts at the same object paths (obj.target/<target>/../src/... is shared), so two
  // targets built in parallel can link an object the other is still writing. Built in turn, the
  // second target reuses the first one's objects.
  const targets = backends().map((b) => `socketpoll_${b}`);
  let output = '';
  for (const args of [['configure'], ...targets.map((t) => ['build', '--jobs=2', t])]) {
    const r = spawnSync(gyp[0], [...gyp.slice(1), ...args, `--directory=${gypDir}`], { env, encoding: 'utf8' });
    output += `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.error || r.status !== 0) fail(`node-gyp ${args[0]} failed (${r.error ? r.error.message : `exit code ${r.status}`})`, output);
  }
  for (const backend of backends()) {
    const built = path.join(gypDir, 'build', 'Release', `socketpoll_${backend}.node`);
    if (!fs.existsSync(built)) fail(`node-gyp produced no ${built}`, output);
    put(built, addonFile(backend));
  }
  fs.rmSync(path.join(gypDir, 'build'), { recursive: true, force: true });
  writeBuilt();
  console.log(`poll-fallback: built ${backends().join(' and ')} from source`);
}

if (require.main === module) {
  if (process.argv.includes('--from-workspace')) fromWorkspace();
  else if (!inWorkspace()) build();
}

module.exports = { backends, addonFile, decide, askedFor, packageManager, failureAdvice, LOG, STRICT_LOG };
