import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { LineReader, parseLine, RunnerMessage, writeLine } from '../../src/runner/index.js';
import { truncateOutput } from '../../src/runner/output-limit.js';

async function readAll(reader: LineReader): Promise<string[]> {
  const lines: string[] = [];
  for (let line = await reader.next(); line !== null; line = await reader.next()) lines.push(line);
  return lines;
}

test('property: lines come out the same however the stream is chunked', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')),
        { maxLength: 20 },
      ),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
      async (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const chunks: Buffer[] = [];
        for (let at = 0, i = 0; at < bytes.length; i += 1) {
          const size = cuts[i % cuts.length]!;
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        expect(await readAll(new LineReader(Readable.from(chunks), 1024))).toEqual(lines);
      },
    ),
  );
});

test('a last line without a newline is still delivered', async () => {
  expect(await readAll(new LineReader(Readable.from([Buffer.from('a\nb')]), 1024))).toEqual(['a', 'b']);
});

test('a line of exactly the cap passes and one byte more is refused', async () => {
  expect(await readAll(new LineReader(Readable.from([Buffer.from(`${'x'.repeat(8)}\n`)]), 8))).toEqual(['x'.repeat(8)]);
  await expect(readAll(new LineReader(Readable.from([Buffer.from(`${'x'.repeat(9)}\n`)]), 8))).rejects.toMatchObject({ code: 'protocol_line_too_long' });
});

test('an endless line is refused once it passes the cap, before the stream ends', async () => {
  const stream = new PassThrough();
  const reader = new LineReader(stream, 1000);
  const pending = reader.next();
  for (let i = 0; i < 5; i += 1) stream.write('y'.repeat(300));
  await expect(pending).rejects.toMatchObject({ code: 'protocol_line_too_long' });
});

test('writeLine refuses to send a message over the cap', async () => {
  const out = new PassThrough();
  await expect(writeLine(out, { type: 'done', summary: 'z'.repeat(100) }, 50)).rejects.toMatchObject({ code: 'protocol_line_too_long' });
  expect(out.read()).toBeNull();
});

test('parseLine refuses JSON that is not a protocol message', () => {
  expect(parseLine('{"type":"done","summary":"ok"}', RunnerMessage)).toEqual({ type: 'done', summary: 'ok' });
  expect(() => parseLine('{"type":"done"}', RunnerMessage)).toThrow(expect.objectContaining({ code: 'protocol_malformed' }));
  expect(() => parseLine('{', RunnerMessage)).toThrow(expect.objectContaining({ code: 'protocol_malformed' }));
});

test('tool output is truncated with a marker', () => {
  expect(truncateOutput('abc', 10)).toBe('abc');
  expect(truncateOutput('a'.repeat(25), 10)).toBe(`${'a'.repeat(10)}\n[… truncated 15 bytes]`);
});
