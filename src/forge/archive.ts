/**
 * Both forges serve `<top-folder>/<path>` tarballs, gzipped. The sandbox wants plain
 * repository-relative entries, so this re-packs the stream on the fly: gunzip, drop the top
 * folder, keep only files, folders and symlinks, skip anything that would land outside the
 * workspace. Streamed end to end; nothing touches the host's disk.
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

const KEPT_TYPES = new Set(['file', 'directory', 'symlink']);

/** `top/a/b` → `a/b`; null for the top folder itself and for names that could escape. */
export function stripTopFolder(name: string): string | null {
  const slash = name.indexOf('/');
  if (slash < 0) return null;
  const rest = name.slice(slash + 1).replace(/\/+$/, '');
  if (rest === '' || rest.startsWith('/') || rest.includes('\\')) return null;
  if (rest.split('/').some((part) => part === '..' || part === '.' || part === '')) return null;
  return rest;
}

export function normalizeArchive(gzipped: Readable): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, body, next) => {
    const name = stripTopFolder(header.name);
    if (name === null || !KEPT_TYPES.has(header.type ?? '')) {
      body.on('end', () => next());
      body.resume();
      return;
    }
    const out = { name, type: header.type, mode: header.mode, mtime: header.mtime, size: header.size, linkname: header.linkname };
    if (header.type === 'file') {
      body.pipe(pack.entry(out, (err) => next(err ?? undefined)));
      return;
    }
    body.on('end', () => pack.entry(out, (err) => next(err ?? undefined)));
    body.resume();
  });
  extract.on('finish', () => pack.finalize());
  pipeline(gzipped, createGunzip(), extract, (err) => {
    if (err) pack.destroy(err);
  });
  // tar-stream packs are streamx streams; hand out a Node Readable that carries their errors.
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}
