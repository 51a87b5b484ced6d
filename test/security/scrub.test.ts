import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { isCardNumber, scrub, scrubText, type ScrubKind } from '../../src/security/index.js';

interface Corpus {
  positives: Array<{ kind: ScrubKind; text: string; secret: string }>;
  negatives: string[];
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/scrub/corpus.json', import.meta.url), 'utf8')) as Corpus;

describe('scrub: the corpus (test/fixtures/scrub/corpus.json)', () => {
  it.each(corpus.positives.map((p) => [p.kind, p.text, p]))('finds the %s in %j', (_kind, _text, p) => {
    const { text, found } = scrub(p.text);
    expect(text).not.toContain(p.secret);
    expect(text).not.toContain(p.secret.normalize('NFKC'));
    expect(found[p.kind]).toBeGreaterThanOrEqual(1);
    expect(text).toContain('[redacted');
  });

  it.each(corpus.negatives)('leaves %j as it is', (sentence) => {
    expect(scrub(sentence)).toEqual({ text: sentence, found: {} });
  });
});

describe('scrub', () => {
  it('keeps the words around what it replaces', () => {
    expect(scrubText('Reported by john@example.com on the cart page.')).toBe('Reported by [redacted email] on the cart page.');
    expect(scrubText('Authorization: Bearer abcdefghijklmnop1234')).toBe('Authorization: Bearer [redacted secret]');
    expect(scrubText('password: hunter2.')).toBe('password: [redacted secret].');
  });

  it('replaces every card number in a run, and keeps digits that are not one', () => {
    expect(scrubText('4111 1111 1111 1111 and 5555-5555-5555-4444')).toBe('[redacted card number] and [redacted card number]');
    expect(scrubText('4111 1111 1111 1112')).toBe('4111 1111 1111 1112');
  });

  it('checks card numbers with Luhn, on issuer digits and lengths only', () => {
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('378282246310005')).toBe(true);
    expect(isCardNumber('4111111111111112')).toBe(false);
    expect(isCardNumber('1111111111111117')).toBe(false); // no issuer starts with 1 or 7-9
    expect(isCardNumber('424242424242')).toBe(false); // 12 digits
  });

  it('finds an email however it is hidden between invisible or look-alike characters', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9.]{0,10}[a-z0-9]$/),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/),
        fc.constantFrom('com', 'org', 'de', 'io'),
        fc.nat(),
        fc.constantFrom('\u200b', '\u00ad', '\u2060', '\ufeff', '\u202e'),
        (local, domain, tld, at, invisible) => {
          const email = `${local}@${domain}.${tld}`;
          const i = at % (email.length + 1);
          const hidden = email.slice(0, i) + invisible + email.slice(i);
          const fullwidth = [...email].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
          for (const spelled of [hidden, fullwidth]) {
            const out = scrubText(`from ${spelled} today`);
            expect(out).not.toContain(email);
            expect(out).toContain('[redacted email]');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds any Luhn-valid card number in the usual groupings', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('4', '51', '37', '6011'),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 11 }),
        fc.constantFrom('', ' ', '-'),
        (iin, rest, sep) => {
          const body = iin + rest.join('').slice(0, 15 - iin.length);
          const digits = body + luhnDigit(body);
          const grouped = digits.match(/.{1,4}/g)!.join(sep);
          const out = scrubText(`paid with ${grouped} yesterday`);
          expect(out).toBe('paid with [redacted card number] yesterday');
        },
      ),
      { numRuns: 300 },
    );
  });

  // Each email pattern starts only where a run of local-part characters starts, so a run
  // costs one attempt, not one per character; the whole run is redacted, however long.
  it('redacts the whole of a local part longer than 64 characters', () => {
    expect(scrubText(`${'x'.repeat(100)}@example.com`)).toBe('[redacted email]');
    expect(scrubText(`mail ${'jane.'.repeat(20)}roe at example dot com`)).toBe('mail [redacted email]');
    expect(scrubText(`${'a'.repeat(80)}%40example.org`)).toBe('[redacted email]');
  });

  it.each([
    ['phone', '0044 20 7946 0958', 'international number with the 00 prefix'],
    ['phone', '00 1 415 555 0132', 'North American number dialled with 00'],
    ['card', '4111.1111.1111.1111', 'card number grouped with dots'],
    ['card', '4111_1111_1111_1111', 'card number grouped with underscores'],
    ['iban', 'GB82 WEST 1234 5698 7654 32', 'IBAN in groups'],
    ['iban', 'DE89370400440532013000', 'IBAN written together'],
    ['iban', 'fr14 2004 1010 0505 0001 3m02 606', 'IBAN in lower case'],
  ] as const)('finds the %s in %j (%s)', (kind, secret, _how) => {
    const { text, found } = scrub(`Paid from ${secret} yesterday.`);
    expect(text).toBe(`Paid from [redacted ${kind === 'iban' ? 'bank account' : kind === 'card' ? 'card number' : 'phone number'}] yesterday.`);
    expect(found[kind]).toBe(1);
  });

  it.each(['GB82 WEST 1234 5698 7654 33', 'version 1.2.3.4', 'build 2026.12.01.1130', 'ES00 0000 0000 0000 0000 0001'])(
    'leaves %j, which fails its checksum or is no number at all',
    (text) => {
      expect(scrubText(text)).toBe(text);
    },
  );

  it('stays linear on hostile input (long runs that almost match)', () => {
    const hostile = [
      'a'.repeat(12_500),
      `${'a.'.repeat(12_500)}@`,
      `${'1 '.repeat(12_500)}`,
      `${'+1'.repeat(12_500)}`,
      `-----BEGIN PRIVATE KEY-----${'-----BEGIN PRIVATE KEY-----'.repeat(2_000)}`,
      `password=${'x'.repeat(22_000)}`,
      'Aa1'.repeat(12_000),
      `a@${'b.'.repeat(12_500)}`,
      '0 12 '.repeat(10_000),
      '4-'.repeat(12_500),
    ];
    // No timing assertion: a catastrophic pattern would not finish this test at all.
    for (const text of hostile) expect(typeof scrubText(text)).toBe('string');
  }, 60_000);
});

function luhnDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (isCardNumber(body + d)) return String(d);
  throw new Error('no check digit');
}
