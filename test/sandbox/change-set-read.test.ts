/** The host's half of the change set: pairing renames and applying caps, no sandbox needed. */
import { describe, expect, it } from '@jest/globals';
import { buildChangeSet, parseManifest, serializeManifest } from '../../src/sandbox/change-set-read.js';

const base = parseManifest(
  [
    { p: 'a.txt', m: '100644', h: 'h-a' },
    { p: 'b.txt', m: '100644', h: 'h-b' },
    { p: 'link', m: '120000', h: 'h-a' },
  ]
    .map((l) => JSON.stringify(l))
    .join('\n'),
);
const caps = { maxFiles: 10, maxBytes: 1000 };
const present = (p: string, m: string, h: string, text: string) => JSON.stringify({ p, m, h, c: Buffer.from(text).toString('base64') });
const gone = (p: string) => JSON.stringify({ p, d: 1 });

describe('buildChangeSet', () => {
  it('pairs an exact-content rename only within the same kind of entry', () => {
    // link vanished and a file with the same blob appeared: a symlink never becomes a file by rename.
    const cs = buildChangeSet('c'.repeat(40), base, [present('moved.txt', '100644', 'h-a', 'A'), gone('link')].join('\n'), caps);
    expect(cs.entries.map((e) => [e.status, e.path, e.oldPath])).toEqual([
      ['deleted', 'link', undefined],
      ['added', 'moved.txt', undefined],
    ]);
    const renamed = buildChangeSet('c'.repeat(40), base, [present('c.txt', '100755', 'h-b', 'B'), gone('b.txt')].join('\n'), caps);
    expect(renamed.entries).toEqual([
      { path: 'c.txt', oldPath: 'b.txt', status: 'renamed', mode: '100755', oldMode: '100644', content: Buffer.from('B'), size: 1 },
    ]);
  });

  it('refuses a walk that reported passing a cap, and an entry count or size over the caps', () => {
    expect(() => buildChangeSet('c'.repeat(40), base, JSON.stringify({ over: 'bytes' }), caps)).toThrow(
      expect.objectContaining({ code: 'changeset_too_large' }),
    );
    const many = Array.from({ length: 11 }, (_, i) => present(`f${i}`, '100644', `x${i}`, 'x')).join('\n');
    expect(() => buildChangeSet('c'.repeat(40), base, many, caps)).toThrow(expect.objectContaining({ code: 'changeset_too_large' }));
    const big = present('big', '100644', 'y', 'y'.repeat(1001));
    expect(() => buildChangeSet('c'.repeat(40), base, big, caps)).toThrow(expect.objectContaining({ code: 'changeset_too_large' }));
  });

  it('refuses malformed walker output instead of guessing', () => {
    expect(() => buildChangeSet('c'.repeat(40), base, JSON.stringify({ p: '', m: '100644', h: 'x', c: '' }), caps)).toThrow();
    expect(() => buildChangeSet('c'.repeat(40), base, 'not json', caps)).toThrow();
  });

  it('round-trips the base manifest sent back into the sandbox', () => {
    expect(parseManifest(serializeManifest(base).toString())).toEqual(base);
  });
});
