import { PassThrough, Readable } from 'node:stream';
import { normalizeArchive, safeEntryParts } from '../../src/forge/archive.js';
import { makeTarGz, readTar } from './tarball.js';

describe('normalizeArchive', () => {
  it('passes files, folders and symlinks under the one top folder through, gunzipped, content intact', async () => {
    const gz = await makeTarGz([
      { name: 'pax_global_header', type: 'pax-global-header' },
      { name: 'acme-app-abc123/', type: 'directory' },
      { name: 'acme-app-abc123/README.md', content: '# hello\n' },
      { name: 'acme-app-abc123/src/index.ts', content: 'export const x = 1;\n' },
      { name: 'acme-app-abc123/link', type: 'symlink', linkname: 'README.md' },
    ]);
    const files = await readTar(normalizeArchive(Readable.from([gz])));
    expect([...files.entries()]).toEqual([
      ['acme-app-abc123', '<directory>'],
      ['acme-app-abc123/README.md', '# hello\n'],
      ['acme-app-abc123/src/index.ts', 'export const x = 1;\n'],
      ['acme-app-abc123/link', '<symlink README.md>'],
    ]);
  });

  it('drops entries that climb out, sit under another top folder, or are hard links', async () => {
    const gz = await makeTarGz([
      { name: 'top/', type: 'directory' },
      { name: 'top/ok.txt', content: 'ok' },
      { name: 'top/../escape.txt', content: 'no' },
      { name: '/etc/passwd', content: 'no' },
      { name: 'other/file.txt', content: 'no' },
      { name: 'top/hard', type: 'link', linkname: 'top/ok.txt' },
      { name: 'top/after.txt', content: 'still here' },
    ]);
    const files = await readTar(normalizeArchive(Readable.from([gz])));
    expect([...files.keys()]).toEqual(['top', 'top/ok.txt', 'top/after.txt']);
  });

  it('closes the download when the consumer stops reading early', async () => {
    const download = new PassThrough();
    download.write((await makeTarGz([{ name: 'top/a', content: 'a'.repeat(100_000) }])).subarray(0, 200));
    const tar = normalizeArchive(download);
    tar.resume();
    tar.destroy();
    await new Promise((resolve) => download.once('close', resolve));
    expect(download.destroyed).toBe(true);
  });

  it('fails the stream when the input is not gzip', async () => {
    await expect(readTar(normalizeArchive(Readable.from([Buffer.from('not gzip at all')])))).rejects.toThrow();
  });

  it.each([['a/../b'], ['/abs'], ['a\\b'], ['a/./b'], ['a//b'], ['a/\u0001']])('refuses the entry name %j', (name) => {
    expect(safeEntryParts(name)).toBeNull();
  });
});
