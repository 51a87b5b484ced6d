import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { normalizeWithOrigin } from '../../src/triage/index.js';

describe('normalizeWithOrigin', () => {
  it('folds ASCII (the fast path) exactly as the per-character Unicode path does: lower case, one space, trimmed, origins kept', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', '\n', '\r', '\v', '\f', '<', '_', 'é', 'Ｋ', '\u200B', ' \u00A0 ') }), (raw) => {
        const { text, origin } = normalizeWithOrigin(raw);
        const expected = raw
          .normalize('NFKC')
          .toLowerCase()
          .replace(/\u200B/gu, '')
          .replace(/\s+/gu, ' ')
          .trim();
        expect(text).toBe(expected);
        expect(origin).toHaveLength(text.length);
        for (let i = 0; i < text.length; i += 1) {
          const from = raw.codePointAt(origin[i]!)!;
          const folded = String.fromCodePoint(from).normalize('NFKC').toLowerCase();
          expect(text[i] === ' ' ? /\s/u.test(folded) : folded.includes(text[i]!)).toBe(true);
        }
      }),
    );
  });
});
