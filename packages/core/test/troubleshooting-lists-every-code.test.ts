/**
 * docs/guides/troubleshooting.md's table of error codes lists every code the library can raise or
 * warn with: the `ERR_*` and `SOCKETPOLL_*` codes written in src/, the errno names its messages
 * know (the `case`s of errors.ts, the keys of the streams' hints) and `ABORT_ERR`. Environment
 * variable names are not codes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '../src');
const TABLE = path.resolve(__dirname, '../../../docs/guides/troubleshooting.md');

function codesRaised(): string[] {
  const codes = new Set<string>();
  const envNames = new Set<string>();
  for (const file of fs.readdirSync(SRC)) {
    const text = fs.readFileSync(path.join(SRC, file), 'utf8');
    for (const m of text.matchAll(/'((?:ERR|SOCKETPOLL)_[A-Z_]+|ABORT_ERR)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/case '(E[A-Z]+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/^\s+(E[A-Z]{2,}): [`']/gm)) codes.add(m[1]);
    for (const m of text.matchAll(/process\.env\.([A-Z_]+)/g)) envNames.add(m[1]);
  }
  return [...codes].filter((c) => !envNames.has(c)).sort();
}

test('every code the library raises or warns with has a row in the troubleshooting table', () => {
  const doc = fs.readFileSync(TABLE, 'utf8');
  const table = doc.slice(doc.indexOf('## Error codes'));
  const rows = new Set([...table.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([A-Z_]+)`/g)].map((c) => c[1])));
  const raised = codesRaised();
  expect(raised.length).toBeGreaterThan(20);
  expect(raised.filter((code) => !rows.has(code))).toEqual([]);
});
