/** What a typed error of this package carries (the Node-style fields). */
export type Thrown = Error & { code?: string; errno?: number; syscall?: string; fd?: number };

/** The error `fn` throws; fails the test when it throws nothing. */
export function thrown(fn: () => unknown): Thrown {
  try {
    fn();
  } catch (err) {
    return err as Thrown;
  }
  throw new Error('expected a throw');
}
