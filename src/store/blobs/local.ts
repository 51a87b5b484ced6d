import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { UserzError } from '../../errors.js';
import type { BlobEntry, BlobStore } from './interface.js';
import { checkBlobKey, checkBlobPrefix } from './key.js';

/** Blobs as files under one directory; writes go to a temp name and are renamed, so a
 * reader never sees half a blob. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    return join(this.root, checkBlobKey(key));
  }

  async put(key: string, data: Buffer | Readable): Promise<{ size: number }> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    let size = 0;
    const source = Buffer.isBuffer(data) ? Readable.from([data]) : data;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    try {
      await pipeline(source, createWriteStream(temp, { mode: 0o600 }));
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return { size };
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    const old = (await this.list(prefix)).filter((e) => e.modifiedAt < cutoff);
    for (const e of old) await rm(this.pathOf(e.key), { force: true });
    return old.length;
  }

  async list(prefix: string): Promise<BlobEntry[]> {
    checkBlobPrefix(prefix);
    // Walk from the deepest directory the prefix names fully, then filter by the rest.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found: BlobEntry[] = [];
    const walk = async (dir: string, keyBase: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const entry of entries) {
        const key = keyBase === '' ? entry.name : `${keyBase}/${entry.name}`;
        if (entry.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(join(dir, entry.name), key);
        } else if (entry.isFile() && key.startsWith(prefix) && !entry.name.endsWith('.tmp')) {
          const st = await stat(join(dir, entry.name));
          found.push({ key, size: st.size, modifiedAt: st.mtime });
        }
      }
    };
    await walk(dirPart === '' ? this.root : this.pathOf(dirPart), dirPart);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (prefix === '') throw new UserzError('blob_bad_key', 'Refusing to delete every blob at once');
    const entries = await this.list(prefix);
    for (const e of entries) await rm(this.pathOf(e.key), { force: true });
    return entries.length;
  }

  /** A local directory has no URL of its own: the server streams such blobs. */
  async presignGet(): Promise<string | null> {
    return null;
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root);
  }
}
