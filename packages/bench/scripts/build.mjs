// Builds what the benchmark runs besides JavaScript, into packages/bench/build/ (git-ignored):
//   build/bin/anchor       the raw C anchors (native/anchor.c), -O2
//   build/bin/helper.node  the test-only Node-API helper (native/helper.c): socketpairs, batched read/write
// and checks that the npm `epoll` anchor loads, rebuilding it with node-gyp if it does not.
// Node's headers come from the running node (process.execPath), never from a download.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'build', 'bin'); // declared as a build output in turbo.json
// The running Node's headers, found where every build here finds them (native/scripts/node-gyp-env.js).
const { localNodedir } = createRequire(import.meta.url)('../../native/scripts/node-gyp-env.js');
const nodePrefix = localNodedir() ?? dirname(dirname(process.execPath));
const nodeInclude = join(nodePrefix, 'include', 'node');
const cc = process.env.CC || 'cc';
const cflags = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11'];

function stale(target, ...sources) {
  if (!existsSync(target)) return true;
  const t = statSync(target).mtimeMs;
  return sources.some((s) => statSync(s).mtimeMs > t);
}

function run(cmd, args, opts = {}) {
  console.log(`bench build: ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', ...opts });
}

mkdirSync(out, { recursive: true });

const anchorSrc = join(root, 'native', 'anchor.c');
if (stale(join(out, 'anchor'), anchorSrc)) run(cc, [...cflags, '-o', join(out, 'anchor'), anchorSrc]);

const helperSrc = join(root, 'native', 'helper.c');
if (stale(join(out, 'helper.node'), helperSrc)) {
  if (!existsSync(join(nodeInclude, 'node_api.h'))) {
    throw new Error(`bench build: no Node-API headers at ${nodeInclude} (derived from ${process.execPath})`);
  }
  run(cc, [...cflags, '-fPIC', '-shared', '-fvisibility=hidden', `-I${nodeInclude}`,
    '-o', join(out, 'helper.node'), helperSrc]);
}

// The npm `epoll` package builds at install time when pnpm allows it (onlyBuiltDependencies). If that
// did not happen (or happened against another Node), rebuild it here with node-gyp and local headers.
const require = createRequire(import.meta.url);
function epollLoads() {
  try {
    require('epoll');
    return true;
  } catch (e) {
    return e;
  }
}
const loaded = epollLoads();
if (loaded !== true) {
  let dir;
  try {
    dir = dirname(require.resolve('epoll/package.json'));
  } catch {
    throw new Error('bench build: the npm `epoll` package is not installed (run `pnpm install` at the root)');
  }
  const gyp = join(nodePrefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  console.log(`bench build: epoll does not load (${loaded.message.split('\n')[0]}); rebuilding`);
  run(process.execPath, [gyp, 'rebuild', `--nodedir=${nodePrefix}`], {
    cwd: dir,
    env: { ...process.env, npm_config_nodedir: nodePrefix },
  });
  const again = epollLoads();
  if (again !== true) throw again;
}
