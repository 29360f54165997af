'use strict';
// Writes, or checks (--check: fails on any drift), every file of the platform table's packages:
//   - each prebuilt package folder packages/<name>/: package.json (os, cpu, libc, main, files),
//     README.md and LICENSE; the built socketpoll.node is the only other file it ever holds;
//   - @socketpoll/core's optionalDependencies: the prebuilts and the source package (which decides
//     on install whether to compile, from the rows its prepack writes to its platforms.json);
//   - the changesets `fixed` group (core, the source package, all of the above and the packages
//     built on core listed in COMPANION_PACKAGES share a version).
// --check also fails while a package folder of the former source selectors is still there.
// Versions follow core's; repository/homepage/bugs/license are copied from core's manifest.
const fs = require('node:fs');
const path = require('node:path');
const table = require('../platform-table');

const root = table.repoRoot;
const coreManifestFile = path.join(root, 'packages', 'core', 'package.json');
const changesetFile = path.join(root, '.changeset', 'config.json');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

/** Published packages built on core that are released with it, in the same `fixed` group. */
const COMPANION_PACKAGES = ['@socketpoll/epoll', '@socketpoll/gpio', '@socketpoll/serialport'];

const LIBC_WORDS = { glibc: 'glibc', musl: 'musl' };
const OS_WORDS = { linux: 'Linux', darwin: 'macOS' };
const CPU_WORDS = { x64: 'x64', arm64: 'arm64', arm: 'armv7 (hard float)' };

/** Version and links from core's manifest; `repository.directory` names the package's own folder. */
function shared(core, packageName) {
  const out = { version: core.version, license: core.license };
  for (const key of ['author', 'homepage', 'repository', 'bugs']) if (core[key] !== undefined) out[key] = core[key];
  if (core.repository?.directory) out.repository = { ...core.repository, directory: path.relative(root, table.packageDir(packageName)) };
  return out;
}

function describeRow(row) {
  return `${OS_WORDS[row.platform] ?? row.platform} ${CPU_WORDS[row.arch] ?? row.arch}${row.libc ? ` (${LIBC_WORDS[row.libc]})` : ''}`;
}

function rowFiles(row, core) {
  const { version, ...meta } = shared(core, row.packageName);
  const manifest = {
    name: row.packageName,
    version,
    description: `The ${row.backend} backend of @socketpoll/core, prebuilt for ${describeRow(row)}. Installed automatically as an optional dependency of @socketpoll/core.`,
    ...meta,
    os: [row.platform],
    cpu: [row.arch],
    ...(row.libc ? { libc: [row.libc] } : {}),
    main: 'socketpoll.node',
    files: ['socketpoll.node'],
    publishConfig: { access: 'public' },
  };
  const readme = `# ${row.packageName}

The prebuilt ${row.backend} backend of [\`@socketpoll/core\`](https://www.npmjs.com/package/@socketpoll/core)
for ${row.machines}. You don't install this package yourself: \`npm install @socketpoll/core\`
picks it up as an optional dependency on a matching machine (so don't install with
\`--omit=optional\` / \`--no-optional\`).

Contents: \`socketpoll.node\`, the Node-API binding compiled with \`SocketPoll_${row.backend}.c\`,
cross-built with Zig for \`${row.zigTarget}\`. It needs a runtime with Node-API 8 (Node 20 and later,
Bun, Deno) and nothing else: the C++ runtime is linked in statically.

How it is built and what is checked: the repository's \`docs/platforms.md\`.
`;
  return { manifest, readme };
}

/** Every file this module owns, as { file: content }. */
function expectedFiles() {
  const core = readJson(coreManifestFile);
  const license = fs.readFileSync(path.join(root, 'LICENSE'), 'utf8');
  const files = {};
  const folders = table.PLATFORM_PACKAGES.map((row) => [row.packageName, rowFiles(row, core)]);
  for (const [name, { manifest, readme }] of folders) {
    const dir = table.packageDir(name);
    files[path.join(dir, 'package.json')] = json(manifest);
    files[path.join(dir, 'README.md')] = readme;
    files[path.join(dir, 'LICENSE')] = license;
  }
  const names = folders.map(([name]) => name);
  // Files edited by hand too: only the one field is ours; the rest is kept as written.
  const optional = Object.fromEntries([...names, table.SOURCE_PACKAGE.packageName].map((n) => [n, 'workspace:*']));
  if (JSON.stringify(core.optionalDependencies) !== JSON.stringify(optional)) files[coreManifestFile] = json({ ...core, optionalDependencies: optional });
  const changeset = readJson(changesetFile);
  const fixed = [['@socketpoll/core', table.SOURCE_PACKAGE.packageName, ...names, ...COMPANION_PACKAGES]];
  if (JSON.stringify(changeset.fixed) !== JSON.stringify(fixed)) files[changesetFile] = json({ ...changeset, fixed });
  return files;
}

/**
 * The former source selector packages (an empty package per group of machines with no prebuilt,
 * depending on the source package): replaced by the source package's own decision on install.
 */
const RETIRED_PACKAGES = ['@socketpoll/source-other-os', '@socketpoll/source-linux-other-cpu', '@socketpoll/source-linux-arm-musl'];

/** Files in a generated package folder that the generator does not own (the binary aside). */
function strayFiles() {
  const stray = [];
  for (const name of RETIRED_PACKAGES) {
    const dir = table.packageDir(name);
    if (fs.existsSync(path.join(dir, 'package.json'))) stray.push(dir);
  }
  for (const name of table.PLATFORM_PACKAGES.map((r) => r.packageName)) {
    const dir = table.packageDir(name);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir)) {
      if (!['package.json', 'README.md', 'LICENSE', 'socketpoll.node', 'node_modules', '.turbo'].includes(entry)) stray.push(path.join(dir, entry));
    }
  }
  return stray;
}

function run({ check }) {
  const files = expectedFiles();
  const drift = Object.entries(files).filter(([file, content]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content);
  const stray = strayFiles();
  if (check) {
    for (const [file] of drift) console.error(`manifests: ${path.relative(root, file)} differs from the platform table`);
    for (const file of stray) console.error(`manifests: ${path.relative(root, file)} does not belong ${RETIRED_PACKAGES.some((n) => table.packageDir(n) === file) ? 'in the repository (a retired source selector)' : 'in a backend package (manifest, README, LICENSE and binary only)'}`);
    if (drift.length || stray.length) {
      console.error('manifests: run `pnpm --filter @socketpoll/native run manifests` and commit the result');
      process.exit(1);
    }
    console.log(`manifests: ${Object.keys(files).length} files match the platform table`);
    return;
  }
  for (const [file, content] of drift) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    console.log(`manifests: wrote ${path.relative(root, file)}`);
  }
  for (const file of stray) console.warn(`manifests: ${path.relative(root, file)} does not belong ${RETIRED_PACKAGES.some((n) => table.packageDir(n) === file) ? 'in the repository (a retired source selector)' : 'in a backend package'}: remove it`);
  if (!drift.length) console.log('manifests: up to date');
}

module.exports = { run, expectedFiles, COMPANION_PACKAGES };
