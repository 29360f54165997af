/**
 * The platform table (src/platforms.ts) is the one place a prebuilt target is named: the tables of
 * README.md and docs/platforms.md, written for people, must say the same, and docs/platforms.md's
 * list of the suites that run under qemu must be the ones test/matrix/20-arm-qemu.sh runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLATFORM_PACKAGES } from '../src/platforms';

const ROOT = path.resolve(__dirname, '../../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PLATFORMS = fs.readFileSync(path.join(ROOT, 'docs/platforms.md'), 'utf8');
const ARM = fs.readFileSync(path.join(ROOT, 'test/matrix/20-arm-qemu.sh'), 'utf8');

/** The table rows of a page that name a prebuilt package in their first cells, by package name. */
function rowsNaming(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, 3).join('|');
    const m = /`(@socketpoll\/(?:epoll|kqueue)-[a-z0-9-]+)`/.exec(cells);
    if (m) rows.set(m[1], line);
  }
  return rows;
}

test("README.md's platform table has one row per prebuilt target, with its backend, and no other", () => {
  const rows = rowsNaming(README);
  expect([...rows.keys()].sort()).toEqual(PLATFORM_PACKAGES.map((p) => p.packageName).sort());
  for (const p of PLATFORM_PACKAGES) expect(rows.get(p.packageName)).toMatch(new RegExp(`\\| ${p.backend} \\|`));
});

test("docs/platforms.md's table says each target's os / cpu / libc, backend and Zig target, as the table does", () => {
  const rows = rowsNaming(PLATFORMS);
  expect([...rows.keys()].sort()).toEqual(PLATFORM_PACKAGES.map((p) => p.packageName).sort());
  for (const p of PLATFORM_PACKAGES) {
    const cells = rows.get(p.packageName)!.split('|').map((c) => c.trim());
    expect(cells[2]).toBe([p.platform, p.arch, p.libc].filter(Boolean).join(' / '));
    expect(cells[3]).toBe(p.backend);
    expect(cells[4]).toContain(`\`${p.zigTarget}\``);
  }
});

test('the ARM subset docs/platforms.md lists is the one test/matrix/20-arm-qemu.sh runs', () => {
  const suites = /^SUITES=\(([^)]*)\)/m.exec(ARM)?.[1].split(/\s+/).filter(Boolean) ?? [];
  const listed = /The ARM subset of the jest suite is ([^(]*)\(/.exec(PLATFORMS.replace(/\n/g, ' '))?.[1] ?? '';
  expect(suites.length).toBeGreaterThan(3);
  expect([...listed.matchAll(/`([\w-]+)`/g)].map((m) => m[1]).sort()).toEqual([...suites].sort());
});
