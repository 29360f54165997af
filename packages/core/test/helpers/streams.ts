/** Small helpers for the stream suites. */
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** Everything `stream` delivers until 'end', as one Buffer. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Waits for the stream's 'close' (resolves at once if it is already closed). */
export async function closed(stream: { closed: boolean } & NodeJS.EventEmitter): Promise<void> {
  if (!stream.closed) await once(stream, 'close');
}

/** `size` pseudo-random bytes (deterministic), never 0x0a: a live pty line discipline rewrites '\n'. */
export function pattern(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const byte = (x >>> 0) & 0xff;
    out[i] = byte === 0x0a ? 0x0b : byte;
  }
  return out;
}
