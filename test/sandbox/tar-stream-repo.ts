/** Forge-style repository archives (one top-level folder), built in memory as streams. */
import { Readable } from 'node:stream';
import tar from 'tar-stream';

export interface RepoFile {
  path: string;
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
}

/** A tar stream like GitHub's: a pax global header naming the commit, then `<top>/…`. */
export function repositoryTar(top: string, files: RepoFile[]): Readable {
  const pack = tar.pack();
  pack.entry({ name: `${top}/`, type: 'directory', mode: 0o755 });
  for (const f of files) {
    if (f.linkname !== undefined) pack.entry({ name: `${top}/${f.path}`, type: 'symlink', linkname: f.linkname });
    else pack.entry({ name: `${top}/${f.path}`, type: 'file', mode: f.mode ?? 0o644 }, f.content ?? '');
  }
  pack.finalize();
  // tar-stream packs are streamx streams: async-iterable like a Readable, which is all the driver uses.
  return pack as unknown as Readable;
}
