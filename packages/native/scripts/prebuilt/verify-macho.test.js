'use strict';
// The verifier must fail on what it is there to catch, not only pass on the real binary:
// a non-Mach-O file, a binary modified after signing, one without LC_CODE_SIGNATURE, and a
// dylib (cross-compiled here with the same Zig) that exports too much, imports a non-Node symbol
// by dynamic lookup and does not use kevent. Also checks the exports-trie writer against the
// reader. Run: node --test scripts/prebuilt/ (after the build; needs socketpoll.node).
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const macho = require('./macho');
const { zigPath, zigEnv } = require('./zig-addon');
const { verify: verifyFile } = require('./verify-macho');
const table = require('../platform-table');

const row = table.selectRows(['kqueue-darwin-arm64'])[0];
const verify = (file) => verifyFile(file, row);

const nativeDir = path.resolve(__dirname, '..', '..');
const real = path.join(table.packageDir(row.packageName), 'socketpoll.node');
if (process.platform !== 'linux') {
  console.log('# skipped: the verifier is tested against the Linux cross-build only');
  process.exit(0);
}
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-verify-'));
test.after(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function variant(name, mutate) {
  const buf = Buffer.from(fs.readFileSync(real));
  mutate(buf, macho.parse(buf));
  const file = path.join(tmpDir, name);
  fs.writeFileSync(file, buf);
  return verify(file).problems;
}

test('the built binary passes', () => {
  assert.deepStrictEqual(verify(real).problems, []);
});

test('a file that is not Mach-O fails', () => {
  const file = path.join(tmpDir, 'elf.node');
  fs.writeFileSync(file, Buffer.from('\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0' + '\0'.repeat(64), 'latin1'));
  assert.match(verify(file).problems.join('\n'), /not a 64-bit little-endian Mach-O/);
});

test('a byte changed after signing fails the page hashes', () => {
  const problems = variant('tampered.node', (buf) => {
    buf[0x4000 + 123] ^= 0xff;
  });
  assert.match(problems.join('\n'), /hashes of pages 1 do not match/);
});

test('a binary without LC_CODE_SIGNATURE fails', () => {
  const problems = variant('unsigned.node', (buf, m) => {
    const lc = m.commands.find((c) => c.cmd === macho.LC.CODE_SIGNATURE);
    buf.writeUInt32LE(0x7ffffffe, lc.offset); // an unknown load command now
  });
  assert.match(problems.join('\n'), /no LC_CODE_SIGNATURE/);
});

test('a wrong cpu type fails', () => {
  const problems = variant('x86.node', (buf) => buf.writeUInt32LE(0x01000007, 4));
  assert.match(problems.join('\n'), /cpu type 0x1000007, expected arm64/);
});

test('extra exports, foreign dynamic imports and a missing kevent fail', () => {
  const zig = zigPath();
  const src = path.join(tmpDir, 'bad.c');
  fs.writeFileSync(src, [
    'int kqueue(void);',
    'void foo_from_nowhere(void);',
    '__attribute__((visibility("default"))) int extra_export = 1;',
    '__attribute__((visibility("default"))) void *napi_register_module_v1(void *env, void *exports) {',
    '  (void)env; kqueue(); foo_from_nowhere(); return exports;',
    '}',
  ].join('\n'));
  const out = path.join(tmpDir, 'bad.node');
  const r = spawnSync(zig, ['cc', '-target', 'aarch64-macos.11.0', '-shared', '-undefined', 'dynamic_lookup', '-s',
    '-o', out, src], {
    env: { ...process.env, ZIG_GLOBAL_CACHE_DIR: zigEnv().ZIG_GLOBAL_CACHE_DIR,
      ZIG_LOCAL_CACHE_DIR: path.join(tmpDir, 'zig-cache') },
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, r.stderr);
  const problems = verify(out).problems.join('\n');
  assert.match(problems, /exports more than the Node-API entry points: _extra_export/);
  assert.match(problems, /left to dynamic lookup but not Node-API \(libuv may only be looked up at run time\): _foo_from_nowhere/);
  assert.match(problems, /does not import _kevent/);
});

test('the exports trie writer round-trips through the reader', () => {
  const entries = new Map([
    ['_napi_register_module_v1', { flags: 0n, address: 0x1eacn }],
    ['_node_api_module_get_api_version_v1', { flags: 0n, address: 0x1ea4n }],
    ['_n', { flags: 0n, address: 5n }],
    ['_zzz', { flags: 4n, address: 0x123456789n }],
  ]);
  const trie = macho.buildTrie(entries);
  const back = macho.parseTrie(trie, 0, trie.length);
  assert.deepStrictEqual([...back.keys()].sort(), [...entries.keys()].sort());
  for (const [name, info] of entries) {
    assert.strictEqual(back.get(name).address, info.address);
    assert.strictEqual(back.get(name).flags, info.flags);
  }
});
