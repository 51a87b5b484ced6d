/**
 * Both forges serve gzipped tarballs with every entry under one top folder
 * (`owner-repo-sha/…`). The sandbox loads them with one leading component stripped
 * (src/sandbox LoadRepositoryOptions, default 1), so the folder is kept. What this adds is a
 * gate on the way through, streamed end to end with nothing on the host's disk: gunzip, keep
 * only files, folders and symlinks under that single top folder, and drop anything that
 * could land outside the workspace (`..`, absolute names, backslashes) or is not plain
 * content (hard links, devices, pax global headers).
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

const KEPT_TYPES = new Set(['file', 'directory', 'symlink']);

/** Name parts of a safe entry (`top/a/b` → ['top','a','b']); null for names that could escape. */
export function safeEntryParts(name: string): string[] | null {
  const trimmed = name.replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/') || trimmed.includes('\\') || /[\u0000-\u001f]/.test(trimmed)) return null;
  const parts = trimmed.split('/');
  if (parts.some((part) => part === '..' || part === '.' || part === '')) return null;
  return parts;
}

export function normalizeArchive(gzipped: Readable): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  let top: string | null = null;
  extract.on('entry', (header, body, next) => {
    const kept = KEPT_TYPES.has(header.type ?? '');
    const parts = kept ? safeEntryParts(header.name) : null;
    if (parts) top ??= parts[0]!;
    if (parts === null || parts[0] !== top) {
      body.on('end', () => next());
      body.resume();
      return;
    }
    const out = { name: parts.join('/'), type: header.type, mode: header.mode, mtime: header.mtime, size: header.size, linkname: header.linkname };
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
  const out = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
  // A consumer that stops early (the sandbox failed) must not leave the forge download open.
  out.once('close', () => gzipped.destroy());
  return out;
}
