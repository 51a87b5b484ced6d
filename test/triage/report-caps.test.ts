import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseReportInput } from '../../src/intake/report-input.js';
import { INTAKE_LIMITS } from '../../src/intake/limits.js';
import { capConsoleLine, CONSOLE_MESSAGE_BYTES, PAGE_URL_BYTES, REPORTER_VALUE_BYTES, truncateUtf8, USER_AGENT_BYTES } from '../../src/triage/index.js';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const MARKER = /…\[truncated (\d+) bytes\]$/u;

describe('truncateUtf8', () => {
  it.each([
    ['just below the cap', CONSOLE_MESSAGE_BYTES - 1],
    ['at the cap', CONSOLE_MESSAGE_BYTES],
  ])('keeps a message %s as it is', (_name, size) => {
    const message = 'a'.repeat(size);
    expect(truncateUtf8(message, CONSOLE_MESSAGE_BYTES)).toBe(message);
  });

  it('cuts a message one byte over the cap to at most the cap, with a marker counting the bytes cut', () => {
    const message = 'a'.repeat(CONSOLE_MESSAGE_BYTES + 1);
    const out = truncateUtf8(message, CONSOLE_MESSAGE_BYTES);
    expect(bytes(out)).toBeLessThanOrEqual(CONSOLE_MESSAGE_BYTES);
    const [, removed] = MARKER.exec(out)!;
    const kept = out.replace(MARKER, '');
    expect(message.startsWith(kept)).toBe(true);
    expect(bytes(kept) + Number(removed)).toBe(bytes(message));
  });

  it('never splits a code point, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ' ', 'é', '€', '😀', '\u0301'), maxLength: 3000 }),
        fc.integer({ min: 40, max: 2500 }),
        (text, max) => {
          const out = truncateUtf8(text, max);
          if (bytes(text) <= max) {
            expect(out).toBe(text);
            return;
          }
          expect(bytes(out)).toBeLessThanOrEqual(max);
          const kept = out.replace(MARKER, '');
          expect(text.startsWith(kept)).toBe(true);
          expect(Buffer.from(kept, 'utf8').toString('utf8')).toBe(kept);
          expect(/[\uD800-\uDBFF]$/u.test(kept)).toBe(false);
        },
      ),
    );
  });

  it('caps a string console timestamp too', () => {
    const line = capConsoleLine({ level: 'log', message: 'ok', ts: 'x'.repeat(10_000) });
    expect(bytes(String(line.ts))).toBeLessThanOrEqual(64);
    expect(line.message).toBe('ok');
  });
});

describe('intake normalisation', () => {
  const body = (message: string) => ({
    text: 'The page froze',
    console: [
      { level: 'error', message },
      { level: 'log', message: 'short' },
    ],
  });

  it('cuts a 7 MB console message to 2 KB with a visible marker and keeps the other lines', () => {
    const { content } = parseReportInput(body('x'.repeat(7 * 1024 * 1024)));
    const [first, second] = content.console!;
    expect(bytes(first!.message)).toBeLessThanOrEqual(INTAKE_LIMITS.consoleMessageBytes);
    expect(first!.message).toMatch(MARKER);
    expect(second!.message).toBe('short');
  });

  it.each([
    ['just below', INTAKE_LIMITS.consoleMessageBytes - 1, false],
    ['at', INTAKE_LIMITS.consoleMessageBytes, false],
    ['just above', INTAKE_LIMITS.consoleMessageBytes + 1, true],
  ])('treats a message %s the cap as expected', (_name, size, cut) => {
    // 'é' is two bytes: the cap counts UTF-8 bytes, not characters.
    const message = `${'é'.repeat(Math.floor(size / 2))}${size % 2 ? 'a' : ''}`;
    expect(bytes(message)).toBe(size);
    const out = parseReportInput(body(message)).content.console![0]!.message;
    expect(out === message).toBe(!cut);
    expect(bytes(out)).toBeLessThanOrEqual(INTAKE_LIMITS.consoleMessageBytes);
  });
});

describe('intake caps on the other fields that reach a model', () => {
  const eightMb = 'é'.repeat(3 * 1024 * 1024);

  it('cuts a multi-megabyte page URL and user agent with a marker, never mid code point', () => {
    const { content } = parseReportInput({ text: 'The page froze', page: { url: `https://example.test/${eightMb}`, userAgent: eightMb } });
    expect(bytes(content.page!.url!)).toBeLessThanOrEqual(PAGE_URL_BYTES);
    expect(bytes(content.page!.userAgent!)).toBeLessThanOrEqual(USER_AGENT_BYTES);
    expect(content.page!.url).toMatch(MARKER);
    expect(content.page!.userAgent!.replace(MARKER, '')).toMatch(/^é+$/u);
  });

  it('cuts a long reporter value and keeps short ones and non-strings as sent', () => {
    const { content } = parseReportInput({ text: 'x', reporter: { name: eightMb, plan: 'pro', seats: 3, admin: true, none: null } });
    expect(bytes(content.reporter!.name as string)).toBeLessThanOrEqual(REPORTER_VALUE_BYTES);
    expect(content.reporter!.name).toMatch(MARKER);
    expect(content.reporter).toMatchObject({ plan: 'pro', seats: 3, admin: true, none: null });
  });

  it('refuses more reporter fields than the limit with too_many_reporter_fields', () => {
    const reporter = Object.fromEntries(Array.from({ length: INTAKE_LIMITS.reporterFields + 1 }, (_, i) => [`k${i}`, 'v']));
    expect(() => parseReportInput({ text: 'x', reporter })).toThrow(expect.objectContaining({ code: 'too_many_reporter_fields', status: 400 }));
    const atLimit = Object.fromEntries(Object.entries(reporter).slice(1));
    expect(Object.keys(parseReportInput({ text: 'x', reporter: atLimit }).content.reporter!)).toHaveLength(INTAKE_LIMITS.reporterFields);
  });
});
