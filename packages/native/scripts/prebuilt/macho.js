'use strict';
// A small, dependency-free reader of 64-bit Mach-O files — just what verify-macho.js checks and
// what zig-addon.js fixes up: the header, load commands, linked dylibs, the symbol table, the
// exports trie, and the ad-hoc code signature's page hashes. Layouts from Apple's
// <mach-o/loader.h>, <mach-o/nlist.h> and the code-signing blob formats (cs_blobs.h).
const crypto = require('node:crypto');

const MH_MAGIC_64 = 0xfeedfacf;
const CPU_TYPE = { ARM64: 0x0100000c, X86_64: 0x01000007 };
const FILETYPES = { 6: 'MH_DYLIB', 8: 'MH_BUNDLE' };

const LC = {
  SYMTAB: 0x2,
  DYSYMTAB: 0xb,
  LOAD_DYLIB: 0xc,
  ID_DYLIB: 0xd,
  CODE_SIGNATURE: 0x1d,
  DYLD_INFO: 0x22,
  DYLD_INFO_ONLY: 0x80000022,
  LOAD_WEAK_DYLIB: 0x80000018,
  REEXPORT_DYLIB: 0x8000001f,
  LAZY_LOAD_DYLIB: 0x20,
  LOAD_UPWARD_DYLIB: 0x80000023,
  DYLD_EXPORTS_TRIE: 0x80000033,
  DYLD_CHAINED_FIXUPS: 0x80000034,
  VERSION_MIN_MACOSX: 0x24,
  BUILD_VERSION: 0x32,
};
const DYLIB_COMMANDS = new Set([LC.LOAD_DYLIB, LC.LOAD_WEAK_DYLIB, LC.REEXPORT_DYLIB, LC.LAZY_LOAD_DYLIB,
  LC.LOAD_UPWARD_DYLIB]);

const N_STAB = 0xe0;
const N_PEXT = 0x10;
const N_TYPE = 0x0e;
const N_EXT = 0x01;
const N_UNDF = 0x0;
const DYNAMIC_LOOKUP_ORDINAL = 0xfe;
const EXECUTABLE_ORDINAL = 0xff;

function cstring(buf, off, end = buf.length) {
  let e = off;
  while (e < end && buf[e] !== 0) e++;
  return buf.toString('latin1', off, e);
}

function readUleb(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated ULEB128');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if (!(b & 0x80)) break;
  }
  return { value: result, pos };
}

function uleb(value) {
  let v = BigInt(value);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

/** Every exported name of a trie with its terminal info. */
function parseTrie(buf, start, size) {
  const end = start + size;
  const out = new Map();
  const seen = new Set();
  const walk = (nodeOff, prefix) => {
    if (seen.has(nodeOff)) throw new Error('exports trie has a cycle');
    seen.add(nodeOff);
    let p = start + nodeOff;
    if (p >= end) throw new Error('exports trie node out of range');
    const term = readUleb(buf, p);
    p = term.pos;
    if (term.value > 0n) {
      let q = p;
      const flags = readUleb(buf, q);
      q = flags.pos;
      const info = { flags: flags.value };
      if (flags.value & 0x08n) { // EXPORT_SYMBOL_FLAGS_REEXPORT
        const ord = readUleb(buf, q);
        info.ordinal = ord.value;
        info.importName = cstring(buf, ord.pos, end);
      } else {
        const addr = readUleb(buf, q);
        info.address = addr.value;
        if (flags.value & 0x10n) info.resolver = readUleb(buf, addr.pos).value; // STUB_AND_RESOLVER
      }
      out.set(prefix, info);
      p += Number(term.value);
    }
    const children = buf[p++];
    for (let i = 0; i < children; i++) {
      const label = cstring(buf, p, end);
      p += Buffer.byteLength(label, 'latin1') + 1;
      const child = readUleb(buf, p);
      p = child.pos;
      walk(Number(child.value), prefix + label);
    }
  };
  if (size > 0) walk(0, '');
  return out;
}

/** Serialises a (compressed) exports trie for entries Map<name, {flags, address}> (regular kinds). */
function buildTrie(entries) {
  const root = { children: new Map(), info: null };
  for (const [name, info] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let node = root;
    let rest = name;
    for (;;) {
      let edge = null;
      for (const [label, child] of node.children) {
        let k = 0;
        while (k < label.length && k < rest.length && label[k] === rest[k]) k++;
        if (k === 0) continue;
        if (k < label.length) { // split the edge
          const mid = { children: new Map([[label.slice(k), child]]), info: null };
          node.children.delete(label);
          node.children.set(label.slice(0, k), mid);
          edge = { node: mid, k };
        } else edge = { node: child, k };
        break;
      }
      if (!edge) {
        const leaf = { children: new Map(), info };
        node.children.set(rest, leaf);
        break;
      }
      node = edge.node;
      rest = rest.slice(edge.k);
      if (rest === '') {
        node.info = info;
        break;
      }
    }
  }
  const nodes = [];
  const order = (n) => {
    nodes.push(n);
    for (const child of n.children.values()) order(child);
  };
  order(root);
  for (const n of nodes) n.offset = 0;
  let bytes;
  for (let round = 0; round < 32; round++) { // offsets are ULEB128: iterate until they settle
    bytes = [];
    let changed = false;
    for (const n of nodes) {
      if (n.offset !== bytes.length) {
        n.offset = bytes.length;
        changed = true;
      }
      const term = n.info ? [...uleb(n.info.flags), ...uleb(n.info.address)] : [];
      bytes.push(...uleb(term.length), ...term, n.children.size);
      for (const [label, child] of n.children) {
        bytes.push(...Buffer.from(label + '\0', 'latin1'), ...uleb(child.offset));
      }
    }
    if (!changed) return Buffer.from(bytes);
  }
  throw new Error('exports trie offsets did not settle');
}

function parse(buf) {
  if (buf.length < 32 || buf.readUInt32LE(0) !== MH_MAGIC_64) {
    throw new Error('not a 64-bit little-endian Mach-O file (bad magic)');
  }
  const m = {
    cputype: buf.readUInt32LE(4),
    filetype: buf.readUInt32LE(12),
    ncmds: buf.readUInt32LE(16),
    flags: buf.readUInt32LE(24),
    commands: [],
    dylibs: [],
    idDylib: null,
    codeSignature: null,
    symtab: null,
    exportsTrie: null,
    minOs: null,
  };
  let off = 32;
  for (let i = 0; i < m.ncmds; i++) {
    const cmd = buf.readUInt32LE(off);
    const cmdsize = buf.readUInt32LE(off + 4);
    if (cmdsize < 8 || off + cmdsize > buf.length) throw new Error(`load command ${i} out of range`);
    m.commands.push({ cmd, cmdsize, offset: off });
    if (DYLIB_COMMANDS.has(cmd) || cmd === LC.ID_DYLIB) {
      const name = cstring(buf, off + buf.readUInt32LE(off + 8), off + cmdsize);
      if (cmd === LC.ID_DYLIB) m.idDylib = name;
      else m.dylibs.push({ cmd, name });
    } else if (cmd === LC.CODE_SIGNATURE) {
      m.codeSignature = { dataoff: buf.readUInt32LE(off + 8), datasize: buf.readUInt32LE(off + 12) };
    } else if (cmd === LC.SYMTAB) {
      m.symtab = {
        symoff: buf.readUInt32LE(off + 8), nsyms: buf.readUInt32LE(off + 12),
        stroff: buf.readUInt32LE(off + 16), strsize: buf.readUInt32LE(off + 20),
      };
    } else if (cmd === LC.DYLD_INFO || cmd === LC.DYLD_INFO_ONLY) {
      const size = buf.readUInt32LE(off + 44);
      if (size) m.exportsTrie = { off: buf.readUInt32LE(off + 40), size, sizeField: off + 44 };
    } else if (cmd === LC.BUILD_VERSION || cmd === LC.VERSION_MIN_MACOSX) {
      // X.Y.Z packed as xxxx.yy.zz nibbles: the oldest macOS the image runs on.
      const v = buf.readUInt32LE(off + (cmd === LC.BUILD_VERSION ? 12 : 8));
      m.minOs = `${v >>> 16}.${(v >> 8) & 0xff}${v & 0xff ? `.${v & 0xff}` : ''}`;
    } else if (cmd === LC.DYLD_EXPORTS_TRIE) {
      m.exportsTrie = { off: buf.readUInt32LE(off + 8), size: buf.readUInt32LE(off + 12), sizeField: off + 12 };
    }
    off += cmdsize;
  }
  m.symbols = [];
  if (m.symtab) {
    const { symoff, nsyms, stroff, strsize } = m.symtab;
    for (let i = 0; i < nsyms; i++) {
      const p = symoff + i * 16;
      const strx = buf.readUInt32LE(p);
      const type = buf[p + 4];
      if (type & N_STAB) continue;
      const desc = buf.readUInt16LE(p + 6);
      m.symbols.push({
        name: cstring(buf, stroff + strx, stroff + strsize),
        external: (type & N_EXT) !== 0,
        privateExternal: (type & N_PEXT) !== 0,
        undefined: (type & N_TYPE) === N_UNDF,
        libraryOrdinal: (desc >> 8) & 0xff,
      });
    }
  }
  m.exports = m.exportsTrie ? parseTrie(buf, m.exportsTrie.off, m.exportsTrie.size) : new Map();
  return m;
}

/** Where each undefined external symbol comes from: a dylib path, 'dynamic lookup', or 'self'. */
function imports(m) {
  return m.symbols.filter((s) => s.undefined && s.external).map((s) => {
    let from;
    if (s.libraryOrdinal === DYNAMIC_LOOKUP_ORDINAL) from = 'dynamic lookup';
    else if (s.libraryOrdinal === EXECUTABLE_ORDINAL) from = 'main executable';
    else if (s.libraryOrdinal === 0) from = 'self';
    else from = m.dylibs[s.libraryOrdinal - 1]?.name ?? `ordinal ${s.libraryOrdinal}`;
    return { name: s.name, from };
  });
}

/** The code signature's CodeDirectory, and whether each code page hash matches the file. */
function checkSignature(buf, m) {
  if (!m.codeSignature) return { present: false };
  const base = m.codeSignature.dataoff;
  if (buf.readUInt32BE(base) !== 0xfade0cc0) return { present: true, error: 'no embedded signature SuperBlob' };
  const count = buf.readUInt32BE(base + 8);
  let cd = null;
  for (let i = 0; i < count; i++) {
    const type = buf.readUInt32BE(base + 12 + i * 8);
    const off = buf.readUInt32BE(base + 16 + i * 8);
    if (type === 0 && buf.readUInt32BE(base + off) === 0xfade0c02) cd = base + off;
  }
  if (cd === null) return { present: true, error: 'no CodeDirectory' };
  const dir = {
    offset: cd,
    flags: buf.readUInt32BE(cd + 12),
    hashOffset: buf.readUInt32BE(cd + 16),
    identifier: cstring(buf, cd + buf.readUInt32BE(cd + 20)),
    nCodeSlots: buf.readUInt32BE(cd + 28),
    codeLimit: buf.readUInt32BE(cd + 32),
    hashSize: buf[cd + 36],
    hashType: buf[cd + 37],
    pageSize: 2 ** buf[cd + 39],
  };
  const algo = { 1: 'sha1', 2: 'sha256' }[dir.hashType];
  if (!algo) return { present: true, directory: dir, error: `unknown hash type ${dir.hashType}` };
  const bad = [];
  for (let i = 0; i < dir.nCodeSlots; i++) {
    const start = i * dir.pageSize;
    const end = Math.min(start + dir.pageSize, dir.codeLimit);
    const digest = crypto.createHash(algo).update(buf.subarray(start, end)).digest().subarray(0, dir.hashSize);
    const slot = cd + dir.hashOffset + i * dir.hashSize;
    if (!digest.equals(buf.subarray(slot, slot + dir.hashSize))) bad.push(i);
  }
  return { present: true, directory: dir, algo, badPages: bad, adhoc: (dir.flags & 0x2) !== 0 };
}

/** Rewrites the code page hashes after the file's bytes changed (same size, same layout). */
function resign(buf, m) {
  const sig = checkSignature(buf, m);
  if (!sig.present || sig.error) throw new Error(`cannot re-sign: ${sig.error || 'no LC_CODE_SIGNATURE'}`);
  const dir = sig.directory;
  for (const i of sig.badPages) {
    const start = i * dir.pageSize;
    const end = Math.min(start + dir.pageSize, dir.codeLimit);
    const digest = crypto.createHash(sig.algo).update(buf.subarray(start, end)).digest().subarray(0, dir.hashSize);
    digest.copy(buf, dir.offset + dir.hashOffset + i * dir.hashSize);
  }
  return sig.badPages.length;
}

module.exports = {
  CPU_TYPE, FILETYPES, LC, parse, parseTrie, buildTrie, imports, checkSignature, resign,
};
