/**
 * Every TypeScript code sample in the READMEs, docs/ and the doc comments of src/ is compiled
 * with `strict` against the built package's own types (as a user imports it), then run as its
 * own process (an ES module) against real fds. A sample uses the names of test/samples/prelude.mts (`poll`, `fd`,
 * `conn`…) where it does not declare them; a block whose first line is `// worker.js` is the
 * worker file of the block before it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import * as core from '../src';
import { HELPER_PATH } from './helpers/fds';

const ROOT = path.resolve(__dirname, '../../..');
const CORE = path.resolve(__dirname, '..');
// Inside the package, so `@socketpoll/core` resolves to the built package by its own name.
const OUT = path.join(CORE, '.samples');
const PRELUDE = path.join(__dirname, 'samples/prelude.mts');

interface Sample {
  /** `README.md:12`: where the block starts. */
  where: string;
  code: string;
  /** The worker file it starts, if the next block is one. */
  worker?: string;
}

function markdownFiles(): string[] {
  const docs = path.join(ROOT, 'docs');
  const files = [path.join(ROOT, 'README.md'), path.join(CORE, 'README.md')];
  for (const entry of fs.readdirSync(docs, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.md') && !entry.startsWith('api')) files.push(path.join(docs, entry));
  }
  return files.sort();
}

/** ```ts blocks of a text whose lines may carry a prefix (` * ` in doc comments). */
function blocks(file: string, prefix: RegExp): Sample[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.replace(prefix, ''));
  const found: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    const indent = lines[i].indexOf('```');
    while (++i < lines.length && lines[i].trim() !== '```');
    const code = lines.slice(start, i).map((l) => l.slice(indent)).join('\n');
    const where = `${path.relative(ROOT, file)}:${start}`;
    const previous = found[found.length - 1];
    if (code.startsWith('// worker.js') && previous) previous.worker = code;
    else found.push({ where, code });
  }
  return found;
}

function allSamples(): Sample[] {
  const samples = markdownFiles().flatMap((f) => blocks(f, /^/));
  const src = path.join(CORE, 'src');
  for (const f of fs.readdirSync(src).sort()) samples.push(...blocks(path.join(src, f), /^\s*\*( |$)/));
  return samples;
}

const PRELUDE_NAMES = new Set(['Conn', 'conn', 'fd', 'sock', 'fdA', 'fdB', 'fds', 'buf', 'bigBuffer', 'ptyMaster', 'serialFd', 'signal', 'poll', 'handle', 'onBatch']);
// Values and the exported types (`type X` in src/index.ts).
const CORE_NAMES = new Set([
  ...Object.keys(core),
  ...[...fs.readFileSync(path.join(CORE, 'src/index.ts'), 'utf8').matchAll(/\btype (\w+)/g)].map((m) => m[1]),
]);
const NODE_NAMES: Record<string, string> = { Worker: 'node:worker_threads', workerData: 'node:worker_threads', spawn: 'node:child_process' };

/** The import lines for `names` (the ones a sample uses without declaring or importing them). */
function importsFor(names: Set<string>): string {
  const pick = (set: Set<string>) => [...names].filter((n) => set.has(n)).sort();
  const lines: string[] = [];
  // Always imported: its fixtures and its exit timer are there even for a sample that names none.
  lines.push(pick(PRELUDE_NAMES).length ? `import { ${pick(PRELUDE_NAMES).join(', ')} } from './prelude.mjs';` : "import './prelude.mjs';");
  if (pick(CORE_NAMES).length) lines.push(`import { ${pick(CORE_NAMES).join(', ')} } from '@socketpoll/core';`);
  for (const n of [...names].filter((n) => NODE_NAMES[n]).sort()) lines.push(`import { ${n} } from '${NODE_NAMES[n]}';`);
  if (names.has('fs')) lines.push("import * as fs from 'node:fs';");
  return lines.join(' ');
}

const samples = allSamples();
const fileOf = (i: number) => `sample-${String(i).padStart(3, '0')}`;
const sources = (): { file: string; where: string; code: string }[] =>
  samples.flatMap((s, i) => [
    { file: `${fileOf(i)}.mts`, where: s.where, code: s.code },
    // The worker file the sample names, `./worker.js` (CommonJS, as this package is).
    ...(s.worker ? [{ file: 'worker.ts', where: `${s.where} (worker)`, code: s.worker }] : []),
  ]);

/** Writes every sample with its implicit imports on line 1 (so line numbers match the block). */
function writeSamples(missing: Map<string, Set<string>>): string[] {
  const workers = new Set(sources().filter((s) => s.file === 'worker.ts').map((s) => s.code));
  if (workers.size > 1) throw new Error('samples with different `// worker.js` blocks: make them the same');
  return sources().map(({ file, where, code }) => {
    // `export {}` makes each sample a module of its own (its names do not clash with another's).
    fs.writeFileSync(path.join(OUT, file), `${importsFor(missing.get(file) ?? new Set())} export {}; // ${where}\n${code}\n`);
    return path.join(OUT, file);
  });
}

function compile(files: string[]): { program: ts.Program; diagnostics: readonly ts.Diagnostic[] } {
  const program = ts.createProgram([...new Set([...files, path.join(OUT, 'prelude.mts')])], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: ['node'],
    rootDir: OUT,
    outDir: OUT,
  });
  return { program, diagnostics: ts.getPreEmitDiagnostics(program) };
}

beforeAll(() => {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.copyFileSync(PRELUDE, path.join(OUT, 'prelude.mts'));
});

test('the docs, READMEs and doc comments have samples to check', () => {
  expect(samples.length).toBeGreaterThan(15);
});

test('every sample compiles under strict against the published types', () => {
  // First pass: which names each sample leaves unresolved (TS2304 and friends) that the prelude,
  // core or Node provide; second pass: with those imported, nothing may be left.
  const missing = new Map<string, Set<string>>();
  for (const d of compile(writeSamples(missing)).diagnostics) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const name = /Cannot find name '(\w+)'|No value exists in scope for the shorthand property '(\w+)'/.exec(text)?.slice(1).find(Boolean);
    if (!d.file || !name) continue;
    if (!PRELUDE_NAMES.has(name) && !CORE_NAMES.has(name) && !NODE_NAMES[name] && name !== 'fs') continue;
    const file = path.basename(d.file.fileName);
    missing.set(file, (missing.get(file) ?? new Set()).add(name));
  }
  const { program, diagnostics } = compile(writeSamples(missing));
  const problems = [...diagnostics, ...program.emit().diagnostics].map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const where = d.file.text.split('\n')[0].split('// ')[1] ?? d.file.fileName;
    return `${where}, line ${line} of the block: TS${d.code} ${text}`;
  });
  expect(problems).toEqual([]);
});

describe('every sample runs against real fds', () => {
  test.each(samples.map((s, i) => [s.where, i] as const))('%s', (_where, i) => {
    const r = spawnSync(process.execPath, [`${fileOf(i)}.mjs`], {
      cwd: OUT,
      encoding: 'utf8',
      timeout: 10_000,
      env: { ...process.env, SOCKETPOLL_FD_HELPER: HELPER_PATH, SOCKETPOLL_BACKEND: '' },
    });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });
});

test('the troubleshooting guide explains every error code the package throws', () => {
  const guide = fs.readFileSync(path.join(ROOT, 'docs/guides/troubleshooting.md'), 'utf8');
  const src = ['errors.ts', 'socketpoll.ts', 'loader.ts'].map((f) => fs.readFileSync(path.join(CORE, 'src', f), 'utf8')).join('\n');
  const codes = new Set([...src.matchAll(/case '(E[A-Z]+)'|'(ERR_[A-Z_]+)'/g)].map((m) => m[1] ?? m[2]));
  const esmEntry = fs.readFileSync(path.join(CORE, 'scripts/write-esm-entry.js'), 'utf8');
  if (esmEntry.includes("code: 'MODULE_NOT_FOUND'")) codes.add('MODULE_NOT_FOUND');
  expect(codes.size).toBeGreaterThan(10);
  const rows = guide.split('\n').filter((l) => l.startsWith('| `'));
  expect([...codes].filter((c) => !rows.some((r) => r.includes(`\`${c}\``)))).toEqual([]);
});
