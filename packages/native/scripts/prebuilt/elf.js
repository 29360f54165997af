'use strict';
// A small reader for what verify-elf.js checks in a little-endian ELF shared object, 32- or 64-bit
// (no dependencies): the header, program headers, the dynamic section (NEEDED, flags), the dynamic
// symbol table with each symbol's version (.gnu.version + .gnu.version_r / .gnu.version_d).
// Only the parts needed here; it throws on anything it cannot read.

const ET = { 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' };
const EM = { X86_64: 62, AARCH64: 183, ARM: 40 };
const EF_ARM_ABI_FLOAT_HARD = 0x400;
const SHT = { DYNSYM: 11, DYNAMIC: 6, VERSYM: 0x6fffffff, VERNEED: 0x6ffffffe, VERDEF: 0x6ffffffd };
const PT = { DYNAMIC: 2, INTERP: 3, GNU_STACK: 0x6474e551 };
const PF_X = 1;
const DT = { NULL: 0, NEEDED: 1, SONAME: 14, RPATH: 15, TEXTREL: 22, FLAGS: 30, RUNPATH: 29, FLAGS_1: 0x6ffffffb };
const DF_TEXTREL = 0x4;
const DF_1_NODELETE = 0x8;
const STB = { 0: 'LOCAL', 1: 'GLOBAL', 2: 'WEAK', 10: 'GNU_UNIQUE' };
const STV = { 0: 'DEFAULT', 1: 'INTERNAL', 2: 'HIDDEN', 3: 'PROTECTED' };
const SHN_UNDEF = 0;

function cstr(buf, off) {
  const end = buf.indexOf(0, off);
  if (off >= buf.length || end < 0) throw new Error(`string at 0x${off.toString(16)} is out of the file`);
  return buf.toString('latin1', off, end);
}

function num(big) {
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('offset too large');
  return Number(big);
}

/** Field offsets and sizes of the two ELF classes. */
const LAYOUT = {
  32: { word: 4, ph: { flags: 24 }, sh: { offset: 16, size: 20, link: 24, info: 28, entsize: 36 }, dyn: 8, sym: { size: 16, info: 12, other: 13, shndx: 14 },
    hdr: { phoff: 28, shoff: 32, flags: 36, phentsize: 42, phnum: 44, shentsize: 46, shnum: 48 } },
  64: { word: 8, ph: { flags: 4 }, sh: { offset: 24, size: 32, link: 40, info: 44, entsize: 56 }, dyn: 16, sym: { size: 24, info: 4, other: 5, shndx: 6 },
    hdr: { phoff: 32, shoff: 40, flags: 48, phentsize: 54, phnum: 56, shentsize: 58, shnum: 60 } },
};

/**
 * Parses a little-endian ELF file (32- or 64-bit):
 * { bits, type, machine, flags, phdrs, needed, soname, rpath, textrel, nodelete, execStack, hasGnuStack, interp, definedVersions, symbols }.
 */
function parse(buf) {
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if ((buf[4] !== 1 && buf[4] !== 2) || buf[5] !== 1) throw new Error('not a little-endian ELF file');
  const bits = buf[4] === 2 ? 64 : 32;
  const L = LAYOUT[bits];
  const word = (off) => (bits === 64 ? num(buf.readBigUInt64LE(off)) : buf.readUInt32LE(off));
  const sword = (off) => (bits === 64 ? num(buf.readBigInt64LE(off)) : buf.readInt32LE(off));
  const e = {
    type: buf.readUInt16LE(16),
    machine: buf.readUInt16LE(18),
    phoff: word(L.hdr.phoff),
    shoff: word(L.hdr.shoff),
    flags: buf.readUInt32LE(L.hdr.flags),
    phentsize: buf.readUInt16LE(L.hdr.phentsize),
    phnum: buf.readUInt16LE(L.hdr.phnum),
    shentsize: buf.readUInt16LE(L.hdr.shentsize),
    shnum: buf.readUInt16LE(L.hdr.shnum),
  };
  const inFile = (off, size, what) => {
    if (off < 0 || off + size > buf.length) throw new Error(`${what} is out of the file`);
  };
  const phdrs = [];
  inFile(e.phoff, e.phnum * e.phentsize, 'program headers');
  for (let i = 0; i < e.phnum; i++) {
    const o = e.phoff + i * e.phentsize;
    phdrs.push({ type: buf.readUInt32LE(o), flags: buf.readUInt32LE(o + L.ph.flags) });
  }
  if (!e.shoff || !e.shnum) throw new Error('no section headers');
  inFile(e.shoff, e.shnum * e.shentsize, 'section headers');
  const sections = [];
  for (let i = 0; i < e.shnum; i++) {
    const o = e.shoff + i * e.shentsize;
    const s = {
      type: buf.readUInt32LE(o + 4),
      offset: word(o + L.sh.offset),
      size: word(o + L.sh.size),
      link: buf.readUInt32LE(o + L.sh.link),
      info: buf.readUInt32LE(o + L.sh.info),
      entsize: word(o + L.sh.entsize),
    };
    if (s.type !== 8 /* NOBITS */) inFile(s.offset, s.size, `section ${i}`);
    sections.push(s);
  }
  const byType = (t) => sections.find((s) => s.type === t);
  const strAt = (sec, off) => cstr(buf, sec.offset + off);

  // Dynamic section.
  const dynSec = byType(SHT.DYNAMIC);
  if (!dynSec) throw new Error('no dynamic section (not a shared object?)');
  const dynstr = sections[dynSec.link];
  const dynamic = [];
  for (let o = dynSec.offset; o + L.dyn <= dynSec.offset + dynSec.size; o += L.dyn) {
    const tag = sword(o) >>> 0;
    if (tag === DT.NULL) break;
    dynamic.push({ tag, val: word(o + L.word) });
  }
  const dynStrings = (tag) => dynamic.filter((d) => d.tag === tag).map((d) => strAt(dynstr, d.val));

  // Version names by index: from the needed versions (imports) and the definitions (exports).
  const versions = new Map(); // index -> { name, file }
  const verneed = byType(SHT.VERNEED);
  if (verneed) {
    const strs = sections[verneed.link];
    let o = verneed.offset;
    for (let i = 0; i < verneed.info; i++) {
      const file = strAt(strs, buf.readUInt32LE(o + 4));
      let a = o + buf.readUInt32LE(o + 8);
      for (let j = 0; j < buf.readUInt16LE(o + 2); j++) {
        versions.set(buf.readUInt16LE(a + 6) & 0x7fff, { name: strAt(strs, buf.readUInt32LE(a + 8)), file });
        const next = buf.readUInt32LE(a + 12);
        if (!next) break;
        a += next;
      }
      const next = buf.readUInt32LE(o + 12);
      if (!next) break;
      o += next;
    }
  }
  const verdef = byType(SHT.VERDEF);
  const definedVersions = [];
  if (verdef) {
    const strs = sections[verdef.link];
    let o = verdef.offset;
    for (let i = 0; i < verdef.info; i++) {
      const name = strAt(strs, buf.readUInt32LE(o + buf.readUInt32LE(o + 12)));
      versions.set(buf.readUInt16LE(o + 4), { name, file: null });
      definedVersions.push(name);
      const next = buf.readUInt32LE(o + 16);
      if (!next) break;
      o += next;
    }
  }

  // Dynamic symbols.
  const dynsym = byType(SHT.DYNSYM);
  if (!dynsym) throw new Error('no dynamic symbol table');
  const symstr = sections[dynsym.link];
  const versym = byType(SHT.VERSYM);
  const symbols = [];
  const n = dynsym.size / (dynsym.entsize || L.sym.size);
  for (let i = 1; i < n; i++) {
    const o = dynsym.offset + i * L.sym.size;
    const info = buf[o + L.sym.info];
    const shndx = buf.readUInt16LE(o + L.sym.shndx);
    const vidx = versym ? buf.readUInt16LE(versym.offset + i * 2) & 0x7fff : 1;
    const version = vidx >= 2 ? versions.get(vidx) : undefined;
    symbols.push({
      name: strAt(symstr, buf.readUInt32LE(o)),
      bind: STB[info >> 4] ?? String(info >> 4),
      type: info & 0xf,
      visibility: STV[buf[o + L.sym.other] & 3],
      defined: shndx !== SHN_UNDEF,
      version: version?.name,
      versionFile: version?.file,
    });
  }

  return {
    bits,
    type: ET[e.type] ?? String(e.type),
    machine: e.machine,
    flags: e.flags,
    phdrs,
    needed: dynStrings(DT.NEEDED),
    soname: dynStrings(DT.SONAME)[0],
    rpath: [...dynStrings(DT.RPATH), ...dynStrings(DT.RUNPATH)],
    textrel: dynamic.some((d) => d.tag === DT.TEXTREL || (d.tag === DT.FLAGS && d.val & DF_TEXTREL)),
    nodelete: dynamic.some((d) => d.tag === DT.FLAGS_1 && d.val & DF_1_NODELETE),
    execStack: phdrs.some((p) => p.type === PT.GNU_STACK && p.flags & PF_X),
    hasGnuStack: phdrs.some((p) => p.type === PT.GNU_STACK),
    interp: phdrs.some((p) => p.type === PT.INTERP),
    definedVersions,
    symbols,
  };
}

module.exports = { parse, EM, EF_ARM_ABI_FLOAT_HARD };
