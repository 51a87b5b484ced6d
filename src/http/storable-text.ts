/**
 * Text the database cannot hold: Postgres `text` and `jsonb` refuse U+0000, and `jsonb`
 * refuses the `\udXXX` escape of a lone surrogate. Every channel's input passes through
 * here at its edge (JSON bodies in parseJson, Slack's form fields in its schema), so each
 * one is normalised the same way: both become U+FFFD, the replacement character, as a
 * UTF-8 decoder does with bytes it cannot read.
 */
const REPLACEMENT = '\ufffd';

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export function toStorableText(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, REPLACEMENT) : s;
}

const isStorable = (s: string) => !UNSTORABLE.test(s);

/**
 * The same value with every string and key made storable. Unchanged parts are returned as
 * they are; rebuilt objects define their keys as own data properties, so a `__proto__`
 * key stays a key and never becomes a prototype. Callers bound the depth first.
 */
export function normaliseJsonText(value: unknown): unknown {
  if (typeof value === 'string') return isStorable(value) ? value : toStorableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = normaliseJsonText(value[i]);
      if (v !== value[i] && !out) out = value.slice(0, i);
      out?.push(v);
    }
    return out ?? value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  let changed = false;
  const next = entries.map(([k, v]) => {
    const nk = isStorable(k) ? k : toStorableText(k);
    const nv = normaliseJsonText(v);
    if (nk !== k || nv !== v) changed = true;
    return [nk, nv] as const;
  });
  if (!changed) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of next) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
