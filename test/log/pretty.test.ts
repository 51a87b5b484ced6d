import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/index.js';

const SECRET = `sk_${'Pr3tty'}_${'Q'.repeat(40)}`;

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('log format', () => {
  it('writes one JSON object per line for machines', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, pretty: false });
    log.info({ part: 'database', token: SECRET }, 'Userz started');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, name: 'userz', part: 'database', token: '[redacted]', msg: 'Userz started' });
  });

  it('writes a readable line when pretty (a terminal), with the same redaction and no colour codes into a non-terminal stream', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, pretty: true });
    log.info({ part: 'database', token: SECRET }, 'Userz started');
    log.child({ name: 'http' }).warn({ nested: { apiKey: SECRET }, text: 'a report body that must not be logged' }, 'Request failed');
    const text = out.text();
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(userz\): Userz started \{.*\}$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(http\): Request failed \{.*\}$/);
    expect(lines[0]).toContain('"part":"database"');
    expect(lines[0]).toContain('"token":"[redacted]"');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('a report body');
    expect(text).not.toContain('\u001b[');
    expect(() => JSON.parse(text.split('\n')[0]!)).toThrow();
  });
});
