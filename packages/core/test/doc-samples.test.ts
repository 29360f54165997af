/**
 * Every TypeScript code sample in the READMEs, docs/ and the doc comments of src/ is compiled
 * with `strict` against the built package's own types (as a user imports it), then run as its
 * own process (an ES module) against real fds, with a pipe holding "hello" on its stdin.
 *
 * A block of the READMEs and docs/ is a complete program, as a newcomer would paste it, unless its
 * first line says it is a fragment (`// (fragment: …)`): only a fragment, and a doc comment's
 * sample in src/ (the API reference), may use the names of test/samples/prelude.mts (`poll`, `fd`,
 * `conn`…) without declaring them. A block whose first line is `// worker.mjs` (or another file
 * name) is the worker file of the block before it, written under that name; a `.js` worker may not
 * use `import` (it would not load in a CommonJS project). A ```js block must parse as what it is:
 * CommonJS when it uses `require()`, an ES module when it uses `import` or top-level `await`, not both.
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
  /** May it use the prelude's names without declaring them (a fragment, or an API reference sample)? */
  prelude: boolean;
  /** The worker file it starts, if the next block is one: its name and code. */
  worker?: { name: string; code: string };
}

const FRAGMENT = /^\/\/ \(fragment\b/;
const WORKER = /^\/\/ (worker\.(?:m?js|cjs|ts|mts))\b/;

function markdownFiles(): string[] {
  const docs = path.join(ROOT, 'docs');
  const files = [path.join(ROOT, 'README.md'), path.join(CORE, 'README.md')];
  for (const entry of fs.readdirSync(docs, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.md') && !entry.startsWith('api')) files.push(path.join(docs, entry));
  }
  return files.sort();
}

/** ```<lang> blocks of a text whose lines may carry a prefix (` * ` in doc comments). */
function fenced(file: string, prefix: RegExp, lang: string): { where: string; code: string }[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.replace(prefix, ''));
  const found: { where: string; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```' + lang) continue;
    const start = i + 1;
    const indent = lines[i].indexOf('```');
    while (++i < lines.length && lines[i].trim() !== '```');
    found.push({ where: `${path.relative(ROOT, file)}:${start}`, code: lines.slice(start, i).map((l) => l.slice(indent)).join('\n') });
  }
  return found;
}

/** ```ts blocks; `reference`: doc comments, whose samples may use the prelude's names. */
function blocks(file: string, prefix: RegExp, reference: boolean): Sample[] {
  const found: Sample[] = [];
  for (const { where, code } of fenced(file, prefix, 'ts')) {
    const previous = found[found.length - 1];
    const worker = WORKER.exec(code);
    if (worker && previous) previous.worker = { name: worker[1], code };
    else found.push({ where, code, prelude: reference || FRAGMENT.test(code) });
  }
  return found;
}

function allSamples(): Sample[] {
  const samples = markdownFiles().flatMap((f) => blocks(f, /^/, false));
  const src = path.join(CORE, 'src');
  for (const f of fs.readdirSync(src).sort()) samples.push(...blocks(path.join(src, f), /^\s*\*( |$)/, true));
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
/** The TypeScript source a worker file of that name compiles from (worker.mjs from worker.mts…). */
const workerSource = (name: string): string => name.replace(/\.mjs$/, '.mts').replace(/\.cjs$/, '.cts').replace(/\.js$/, '.ts');

const sources = (): { file: string; where: string; code: string; prelude: boolean }[] =>
  samples.flatMap((s, i) => [
    { file: `${fileOf(i)}.mts`, where: s.where, code: s.code, prelude: s.prelude },
    // The worker file the sample names, under that name.
    ...(s.worker ? [{ file: workerSource(s.worker.name), where: `${s.where} (worker)`, code: s.worker.code, prelude: s.prelude }] : []),
  ]);

/** Writes every sample with its implicit imports on line 1 (so line numbers match the block). */
function writeSamples(missing: Map<string, Set<string>>): string[] {
  const workers = samples.filter((s) => s.worker);
  for (const name of new Set(workers.map((s) => s.worker!.name))) {
    if (new Set(workers.filter((s) => s.worker!.name === name).map((s) => s.worker!.code)).size > 1) {
      throw new Error(`samples with different \`// ${name}\` blocks: make them the same`);
    }
  }
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
  expect(samples.filter((s) => !s.prelude).length).toBeGreaterThan(5); // complete programs
});

test('a worker file named .js uses no import statement (a CommonJS project could not load it)', () => {
  const esmInJs = samples.filter((s) => s.worker && /\.js$/.test(s.worker.name) && /^\s*import\s/m.test(s.worker.code));
  expect(esmInJs.map((s) => `${s.where}: // ${s.worker!.name} uses import: name it worker.mjs`)).toEqual([]);
});

describe('every ```js block parses as the kind of module it is written as', () => {
  const jsBlocks = markdownFiles().flatMap((f) => fenced(f, /^/, 'js'));
  test.each(jsBlocks.map((b) => [b.where, b.code] as const))('%s', (_where, code) => {
    const usesRequire = /\brequire\(/.test(code);
    const esm = /^\s*import\s/m.test(code) || /^(for )?await\b|^\s*for await\b/m.test(code);
    expect({ mixesRequireWithEsm: usesRequire && esm }).toEqual({ mixesRequireWithEsm: false });
    const file = path.join(OUT, `check-${Math.random().toString(36).slice(2)}${esm ? '.mjs' : '.cjs'}`);
    fs.writeFileSync(file, code);
    const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    fs.rmSync(file);
    expect(r.stderr).toBe('');
  });
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
    // A complete program gets nothing it does not import itself: its error stays.
    if (!sources().find((s) => s.file === file)?.prelude) continue;
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
      input: 'hello\n', // stdin: a pipe, as in `echo hello | node app.mjs`
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
