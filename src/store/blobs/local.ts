import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { UserzError } from '../../errors.js';
import type { BlobStore } from './interface.js';

const KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

/** Blobs as files under one directory; writes go to a temp name and are renamed, so a
 * reader never sees half a blob. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
      throw new UserzError('blob_bad_key', 'Blob keys are slash-separated letters, digits, dots, dashes and underscores');
    }
    return join(this.root, key);
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
    const base = prefix === '' ? this.root : this.pathOf(prefix);
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if ((await stat(full)).mtime < cutoff) {
          await rm(full, { force: true });
          removed++;
        }
      }
    };
    await walk(base);
    return removed;
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root);
  }
}
