// common.mjs — what the side-by-side comparisons (epoll-dropin.mjs, serialport.mjs) share: where
// they run, their command line, medians and the commit they measured.
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/bench/src, packages/bench and the repository's root. */
export const srcDir = dirname(fileURLToPath(import.meta.url));
export const pkgRoot = dirname(srcDir);
export const repo = resolve(pkgRoot, '../..');

/**
 * The command line `[outDir] [--name value]… [--flag]…`: `args` as given, `option(name, fallback)`
 * the number after `--name` (or `fallback`), and `outDir` (default: docs/benchmarks).
 */
export function commandLine(args = process.argv.slice(2)) {
  const option = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i < 0 ? fallback : Number(args[i + 1]);
  };
  const outDir = resolve(args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? join(repo, 'docs/benchmarks'));
  return { args, option, outDir };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The short hash of the checked-out commit, or undefined outside a git checkout. */
export function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
