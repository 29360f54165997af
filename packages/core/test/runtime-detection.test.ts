/**
 * What the loader learns about the process: the runtime, the C library (also without
 * `process.report`), and load errors that name the runtime and the missing symbol.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentRuntime, platformPackage } from '../src';
import { currentLibc, libcFromInterpreter } from '../src/runtime';

const CORE = path.resolve(__dirname, '..');

describe('runtime and C library', () => {
  test('Node is recognised as node, with its version', () => {
    expect(currentRuntime()).toEqual({ name: 'node', version: process.versions.node });
  });

  const linux = process.platform === 'linux' ? test : test.skip;
  linux('the ELF interpreter of this runtime names the same C library as process.report', () => {
    const report = process.report.getReport() as unknown as { header: { glibcVersionRuntime?: string } };
    const fromReport = report.header.glibcVersionRuntime ? 'glibc' : 'musl';
    expect(libcFromInterpreter(process.execPath)).toBe(fromReport);
    expect(currentLibc()).toBe(fromReport);
  });

  linux('a file that is not a dynamically linked ELF executable names no C library', () => {
    expect(libcFromInterpreter(path.join(CORE, 'package.json'))).toBeUndefined();
    expect(libcFromInterpreter(path.join(os.tmpdir(), 'socketpoll-no-such-file'))).toBeUndefined();
  });
});

describe('load errors', () => {
  const prebuilt = platformPackage();
  const canCompile = (() => {
    try {
      execFileSync('cc', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const maybe = prebuilt && process.platform === 'linux' && canCompile ? test : test.skip;

  /** A user's node_modules with core and a prebuilt package holding `addon`; runs `new SocketPoll()`. */
  function loadWithPrebuilt(addon: (file: string) => void): string {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-app-'));
    const mod = path.join(app, 'node_modules', '@socketpoll');
    fs.mkdirSync(path.join(mod, 'core'), { recursive: true });
    fs.cpSync(path.join(CORE, 'dist'), path.join(mod, 'core', 'dist'), { recursive: true });
    fs.copyFileSync(path.join(CORE, 'package.json'), path.join(mod, 'core', 'package.json'));
    const pkgDir = path.join(app, 'node_modules', prebuilt!.packageName);
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: prebuilt!.packageName, main: 'socketpoll.node' }));
    addon(path.join(pkgDir, 'socketpoll.node'));
    fs.writeFileSync(path.join(app, 'app.js'), "new (require('@socketpoll/core').SocketPoll)();");
    const env = { ...process.env, SOCKETPOLL_BACKEND: '', NODE_PATH: '' };
    const r = spawnSync(process.execPath, ['app.js'], { cwd: app, env });
    fs.rmSync(app, { recursive: true, force: true });
    return r.stderr.toString();
  }

  maybe('a prebuilt that needs a symbol this runtime lacks: the error names the runtime and the symbol', () => {
    const stderr = loadWithPrebuilt((file) => {
      // A data reference is bound when the library is loaded (functions may be bound lazily).
      const src = `${file}.c`;
      fs.writeFileSync(src, 'extern int socketpoll_test_missing_symbol;\nint *socketpoll_test_ref = &socketpoll_test_missing_symbol;\n');
      execFileSync('cc', ['-shared', '-fPIC', '-o', file, src]);
    });
    expect(stderr).toMatch(
      new RegExp(
        `${prebuilt!.packageName}: installed but cannot load in Node ${process.versions.node}: ` +
          'it needs the symbol socketpoll_test_missing_symbol, which this runtime does not provide',
      ),
    );
    expect(stderr).not.toMatch(/another platform/);
  });

  maybe('a prebuilt that is no library for this machine still says: installed for another platform', () => {
    const stderr = loadWithPrebuilt((file) => fs.writeFileSync(file, 'not an ELF file'));
    expect(stderr).toMatch(new RegExp(`${prebuilt!.packageName}: installed but failed to load in Node ${process.versions.node} .*another platform\\? Reinstall on this machine`));
  });
});
