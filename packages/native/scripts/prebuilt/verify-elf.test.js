'use strict';
// The verifier must fail on what it is there to catch, not only pass on the real binary: a non-ELF
// file, another machine or ELF type, the machine's own g++ build of the same addon (packages/native,
// node-gyp: libstdc++, GLIBCXX_, a newer glibc), and a shared object cross-compiled here with the
// same Zig that exports too much, imports a symbol from neither glibc nor Node, needs glibc 2.25
// and does not use epoll; one asking for an executable stack. Also checks the version reading against
// binutils' objdump when it is installed. Run: node --test scripts/prebuilt/ (after the build).
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const elf = require('./elf');
const { verify: verifyFile } = require('./verify-elf');
const table = require('../platform-table');

const row = table.selectRows(['epoll-linux-x64'])[0];
const verify = (file) => verifyFile(file, row);
const { zigPath, zigEnv } = require('./zig-addon');

const nativeDir = path.resolve(__dirname, '..', '..');
const real = path.join(table.packageDir(row.packageName), 'socketpoll.node');
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log('# skipped: the verifier is tested against the linux-x64 Zig build only');
  process.exit(0);
}
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-verify-'));
test.after(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function variant(name, mutate) {
  const buf = Buffer.from(fs.readFileSync(real));
  mutate(buf);
  const file = path.join(tmpDir, name);
  fs.writeFileSync(file, buf);
  return verify(file).problems.join('\n');
}

test('the built binary passes', () => {
  assert.deepStrictEqual(verify(real).problems, []);
});

test('a file that is not ELF fails', () => {
  const file = path.join(tmpDir, 'macho.node');
  fs.writeFileSync(file, Buffer.from('\xcf\xfa\xed\xfe' + '\0'.repeat(60), 'latin1'));
  assert.match(verify(file).problems.join('\n'), /not an ELF file/);
});

test('another machine fails', () => {
  assert.match(variant('aarch64.node', (buf) => buf.writeUInt16LE(183, 18)), /machine 183 \(ELF64\), expected x86-64/);
});

test('an executable fails', () => {
  assert.match(variant('exec.node', (buf) => buf.writeUInt16LE(2, 16)), /ELF type EXEC, expected a shared object/);
});

test('an executable stack fails', () => {
  // Zig's linker has no -z execstack: set PF_X on PT_GNU_STACK instead.
  const problems = variant('execstack.node', (buf) => {
    const phoff = Number(buf.readBigUInt64LE(32));
    for (let i = 0; i < buf.readUInt16LE(56); i++) {
      const o = phoff + i * buf.readUInt16LE(54);
      if (buf.readUInt32LE(o) === 0x6474e551) buf.writeUInt32LE(buf.readUInt32LE(o + 4) | 1, o + 4);
    }
  });
  assert.match(problems, /executable stack/);
});

test("the machine's g++ build (node-gyp) fails: libstdc++, GLIBCXX_, glibc > 2.17", (t) => {
  const gyp = path.join(nativeDir, 'gyp', 'build', 'Release', 'socketpoll_epoll.node');
  if (!fs.existsSync(gyp)) {
    t.skip(`${gyp} is not built (pnpm --filter @socketpoll/native build makes it)`);
    return;
  }
  const problems = verify(gyp).problems.join('\n');
  assert.match(problems, /NEEDED beyond glibc.s own libraries: libstdc\+\+\.so\.6/);
  assert.match(problems, /imports versions other than GLIBC_x\.y: .*GLIBCXX_3\.4/);
  assert.match(problems, /imports neither from the C library nor from the runtime: .*_Znwm/);
  const glibc = spawnSync('ldd', ['--version'], { encoding: 'utf8' }).stdout.match(/(\d+)\.(\d+)\s*$/m);
  if (glibc && (Number(glibc[1]) > 2 || Number(glibc[2]) > 17)) {
    assert.match(problems, /needs glibc 2\.\d+ > 2\.17/); // g++ binds some symbol to the build machine's newer glibc
  }
});

test('extra exports, foreign imports, glibc 2.25 and no epoll fail', () => {
  const src = path.join(tmpDir, 'bad.c');
  fs.writeFileSync(src, [
    '#include <stddef.h>',
    'int getrandom(void *buf, size_t len, unsigned flags);',
    'void foo_from_nowhere(void);',
    '__attribute__((visibility("default"))) int extra_export = 1;',
    '__attribute__((visibility("default"))) void *napi_register_module_v1(void *env, void *exports) {',
    '  char b[4]; (void)env; getrandom(b, sizeof b, 0); foo_from_nowhere(); return exports;',
    '}',
  ].join('\n'));
  const out = path.join(tmpDir, 'bad.node');
  const r = spawnSync(zigPath(), ['cc', '-target', 'x86_64-linux-gnu.2.25', '-shared', '-fPIC', '-s',
    '-o', out, src], { env: { ...zigEnv(), ZIG_LOCAL_CACHE_DIR: path.join(tmpDir, 'zig-cache') }, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const problems = verify(out).problems.join('\n');
  assert.match(problems, /exports more than the Node-API entry points: extra_export/);
  assert.match(problems, /imports neither from the C library nor from the runtime: foo_from_nowhere/);
  assert.match(problems, /needs glibc 2\.25 > 2\.17: getrandom@GLIBC_2\.25/);
  assert.match(problems, /does not import epoll_create1/);
});

test('symbol versions read here agree with objdump -T', (t) => {
  const r = spawnSync('objdump', ['-T', real], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    t.skip('objdump (binutils) is not installed');
    return;
  }
  const fromObjdump = new Map();
  for (const line of r.stdout.split('\n')) {
    // 0000000000000000      DF *UND*\t0000000000000000 (GLIBC_2.14) memcpy
    if (!/^[0-9a-f]{16}\s/.test(line)) continue;
    const fields = line.trim().split(/\s+/);
    const version = fields[fields.length - 2];
    fromObjdump.set(fields[fields.length - 1], /^\(.*\)$/.test(version) ? version.slice(1, -1) : '');
  }
  const ours = elf.parse(fs.readFileSync(real)).symbols.filter((s) => s.name);
  assert.strictEqual(ours.length, fromObjdump.size);
  for (const s of ours) {
    const v = fromObjdump.get(s.name);
    assert.notStrictEqual(v, undefined, `${s.name} missing from objdump -T`);
    assert.strictEqual(v, s.version ?? '', s.name);
  }
});

test('a library that can be unloaded (no DF_1_NODELETE) fails', () => {
  const problems = variant('deletable.node', (buf) => {
    for (let o = 0; o + 16 <= buf.length; o += 8) {
      // The DT_FLAGS_1 entry of the dynamic section: clear DF_1_NODELETE.
      if (buf.readBigUInt64LE(o) === 0x6ffffffbn && buf.readBigUInt64LE(o + 8) & 8n) {
        buf.writeBigUInt64LE(buf.readBigUInt64LE(o + 8) & ~8n, o + 8);
        return;
      }
    }
    throw new Error('no DT_FLAGS_1 with NODELETE found');
  });
  assert.match(problems, /not linked -z nodelete/);
});
