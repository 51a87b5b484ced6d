import type { Readable, Writable } from 'node:stream';
import type { z } from 'zod';
import { UserzError } from '../errors.js';

const NEWLINE = 0x0a;

/**
 * Reads newline-terminated lines from a stream, refusing any line longer than `maxBytes`
 * before it is fully buffered: a peer cannot make us hold more than one cap's worth.
 */
export class LineReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly iterator: AsyncIterator<unknown>;
  private ended = false;

  constructor(
    stream: Readable,
    private readonly maxBytes: number,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next line without its newline, or null at end of stream. */
  async next(): Promise<string | null> {
    for (;;) {
      const line = this.takeLine();
      if (line !== null) return line;
      if (this.ended) {
        if (this.buffered === 0) return null;
        // A final line without newline is still a line; the cap was checked as it grew.
        const rest = Buffer.concat(this.chunks).toString('utf8');
        this.chunks.length = 0;
        this.buffered = 0;
        return rest;
      }
      const step = await this.iterator.next();
      if (step.done) {
        this.ended = true;
        continue;
      }
      const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : (step.value as Buffer);
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
  }

  private takeLine(): string | null {
    if (this.buffered === 0) return null;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const at = all.indexOf(NEWLINE);
    if (at === -1) {
      if (all.length > this.maxBytes) throw lineTooLong(this.maxBytes);
      this.chunks.length = 0;
      this.chunks.push(all);
      return null;
    }
    if (at > this.maxBytes) throw lineTooLong(this.maxBytes);
    const rest = all.subarray(at + 1);
    this.chunks.length = 0;
    if (rest.length > 0) this.chunks.push(rest);
    this.buffered = rest.length;
    return all.subarray(0, at).toString('utf8');
  }
}

function lineTooLong(max: number): UserzError {
  return new UserzError('protocol_line_too_long', `A protocol line exceeded ${max} bytes`, { details: { maxBytes: max } });
}

/** Parses one line through a schema; anything else is a protocol error. */
export function parseLine<T extends z.ZodType>(line: string, schema: T): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UserzError('protocol_malformed', 'A protocol line is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UserzError('protocol_malformed', 'A protocol line does not match the protocol', {
      details: { issues: parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return parsed.data;
}

/** Writes one message as one line, refusing to emit a line the peer would reject. */
export async function writeLine(stream: Writable, message: unknown, maxBytes: number): Promise<void> {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) > maxBytes) throw lineTooLong(maxBytes);
  if (!stream.write(`${text}\n`)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (e: Error): void => {
        stream.off('drain', onDrain);
        reject(e);
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  }
}
