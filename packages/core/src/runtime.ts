/**
 * Which JavaScript runtime and C library this process runs on. Node, Bun and Deno all load
 * Node-API addons, but they differ in what else they provide (libuv) and in what
 * `process.report` says, so the loader and the event-loop delivery ask here.
 * @module
 */
import * as fs from 'node:fs';

/** A runtime that loads socketpoll: its name and version (`process.versions.bun`, …). */
export interface RuntimeInfo {
  /** `'node'` (also Electron, which is Node with a browser), `'bun'` or `'deno'`. */
  readonly name: 'node' | 'bun' | 'deno';
  /** Its own version, e.g. `'22.23.5'`, `'1.4.4'`, `'2.9.6'`. */
  readonly version: string;
}

/**
 * The runtime this process runs on. Bun and Deno also set `process.versions.node` (the Node
 * version they imitate), so they are recognised by their own entries first.
 *
 * ```ts
 * const { name, version } = currentRuntime();   // { name: 'bun', version: '1.4.4' } under Bun
 * ```
 */
export function currentRuntime(): RuntimeInfo {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  if (versions.bun) return { name: 'bun', version: versions.bun };
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  if (versions.deno || deno) return { name: 'deno', version: versions.deno ?? deno?.version?.deno ?? 'unknown' };
  return { name: 'node', version: versions.node };
}

/** @internal `'node 22.23.5'`, `'bun 1.4.4'`: for messages. */
export function runtimeLabel(): string {
  const { name, version } = currentRuntime();
  return `${name === 'node' ? 'Node' : name === 'bun' ? 'Bun' : 'Deno'} ${version}`;
}

let libcCache: 'glibc' | 'musl' | undefined | null = null;

/**
 * @internal The C library the running executable is linked against (Linux only). Node's
 * `process.report` names the glibc version; where a runtime's report has no such field (or no
 * report at all), the dynamic loader named in the executable's ELF header decides
 * (`/lib64/ld-linux-x86-64.so.2` or `/lib/ld-musl-x86_64.so.1`).
 */
export function currentLibc(): 'glibc' | 'musl' | undefined {
  if (libcCache !== null) return libcCache;
  libcCache = undefined;
  if (process.platform === 'linux') libcCache = libcFromReport() ?? libcFromInterpreter() ?? 'musl';
  return libcCache;
}

function libcFromReport(): 'glibc' | undefined {
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header?.glibcVersionRuntime ? 'glibc' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @internal The C library named by an executable's PT_INTERP (64- and 32-bit ELF, little or big
 * endian); undefined when the file is not a dynamically linked ELF executable.
 */
export function libcFromInterpreter(executable = process.execPath): 'glibc' | 'musl' | undefined {
  let interp: string | undefined;
  try {
    const fd = fs.openSync(executable, 'r');
    try {
      const head = Buffer.alloc(64);
      fs.readSync(fd, head, 0, 64, 0);
      if (head.readUInt32BE(0) !== 0x7f454c46) return undefined;
      const is64 = head[4] === 2;
      const le = head[5] === 1;
      const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
      const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      const word = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
      const phoff = word(head, is64 ? 32 : 28);
      const phentsize = u16(head, is64 ? 54 : 42);
      const phnum = u16(head, is64 ? 56 : 44);
      const table = Buffer.alloc(phentsize * phnum);
      fs.readSync(fd, table, 0, table.length, phoff);
      for (let i = 0; i < phnum; i++) {
        const ph = table.subarray(i * phentsize);
        if (u32(ph, 0) !== 3) continue; // PT_INTERP
        const offset = word(ph, is64 ? 8 : 4);
        const size = word(ph, is64 ? 32 : 16);
        const text = Buffer.alloc(Math.min(size, 256));
        fs.readSync(fd, text, 0, text.length, offset);
        interp = text.toString('latin1').replace(/\0.*$/s, '');
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (interp === undefined) return undefined;
  if (interp.includes('musl')) return 'musl';
  if (interp.includes('ld-linux')) return 'glibc';
  return undefined;
}
