import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 of `bytes` random bytes (unbiased: rejection sampling on each byte). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248) out += ALPHABET[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export type IdKind = 'org' | 'app' | 'key' | 'repo' | 'rep' | 'bat' | 'run' | 'sec' | 'att' | 'whe' | 'evt' | 'usr' | 'inv';

/** Prefixed, URL-safe, 128-bit-ish random ids: `run_3kT9…`. Prefixes make logs readable. */
export function newId(kind: IdKind): string {
  return `${kind}_${randomBase62(22)}`;
}
