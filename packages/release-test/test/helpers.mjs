// What the release checks share: the workspace's published packages, packing them, running tools.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(ROOT, 'packages/release-test/node_modules/.bin');

export const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** The packages that are published (the changesets `fixed` group), with their folders. */
export function publishedPackages() {
  const fixed = readJson(path.join(ROOT, '.changeset/config.json')).fixed[0];
  const byName = new Map();
  for (const dir of fs.readdirSync(path.join(ROOT, 'packages'))) {
    const file = path.join(ROOT, 'packages', dir, 'package.json');
    if (fs.existsSync(file)) byName.set(readJson(file).name, path.dirname(file));
  }
  return fixed.map((name) => {
    const dir = byName.get(name);
    if (!dir) throw new Error(`${name} is in .changeset/config.json but no workspace package has that name`);
    return { name, dir };
  });
}

/** `pnpm pack`s a workspace package into `dest` (workspace:* rewritten); returns the tarball path. */
export function pack(dir, dest) {
  const out = execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' });
  const tarball = out.trim().split('\n').pop().trim();
  if (!tarball.endsWith('.tgz') || !fs.existsSync(tarball)) throw new Error(`pnpm pack in ${dir} printed no tarball:\n${out}`);
  return tarball;
}

/** Runs a command; returns { status, output } with stdout and stderr together. */
export function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), prefix));
}
