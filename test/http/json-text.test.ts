import fc from 'fast-check';
import { parseJson } from '../../src/http/index.js';
import { assertJsonDepth } from '../../src/http/json-depth.js';
import { normaliseJsonText, toStorableText } from '../../src/http/storable-text.js';

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('JSON depth and storable text', () => {
  it('refuses nesting past 64 levels and counts no bracket inside a string', () => {
    expect(() => assertJsonDepth(`${'['.repeat(64)}${']'.repeat(64)}`)).not.toThrow();
    expect(() => assertJsonDepth(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(expect.objectContaining({ code: 'json_too_deep', status: 400 }));
    expect(() => assertJsonDepth(JSON.stringify({ a: '['.repeat(1000) + '\\"{'.repeat(100) }))).not.toThrow();
    expect(() => parseJson(Buffer.from(`{"a":${'{"b":'.repeat(20_000)}1${'}'.repeat(20_000)}}`))).toThrow(expect.objectContaining({ code: 'json_too_deep' }));
  });

  it('agrees with JSON.parse on the depth of any value', () => {
    const depthOf = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 8 }), (value, max) => {
        const text = JSON.stringify(value);
        let refused = false;
        try {
          assertJsonDepth(text, max);
        } catch {
          refused = true;
        }
        expect(refused).toBe(depthOf(value) > max);
      }),
    );
  });

  it('leaves no NUL or lone surrogate in any string or key, and changes nothing else', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4 }),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('\u0000', '\ud800x', 'x\udfff')),
        (value, s) => {
          const input = JSON.parse(JSON.stringify({ [s]: value, s, list: [s, value] })) as unknown;
          const strings = (v: unknown): string[] =>
            typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]) : [];
          const out = normaliseJsonText(input);
          expect(strings(out).filter((x) => UNSTORABLE.test(x))).toEqual([]);
          // Nothing to normalise: the very same value comes back.
          if (!strings(input).some((x) => UNSTORABLE.test(x))) expect(out).toBe(input);
        },
      ),
    );
    expect(toStorableText('a\u0000b\ud800c\udfffd\ud83d\ude00')).toBe('a\ufffdb\ufffdc\ufffdd\ud83d\ude00');
  });

  it('keeps a __proto__ key a key, never a prototype', () => {
    const out = parseJson(Buffer.from('{"__proto__":{"polluted":"x\\u0000"},"a":"\\u0000"}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
