import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { exportOrgRows, registerBlobs, type BlobStore, type Db } from '../store/index.js';

export interface ExportResult {
  file: string;
  tables: Record<string, number>;
  blobs: number;
  missingBlobs: number;
}

/**
 * Everything stored for one org, for an access request: one tar with `data.json` (every
 * table's rows of the org; key hashes, ciphertexts and wrapped keys left out) and each blob
 * under `blobs/<key>`. Written to a new file (mode 0600); an existing file is never replaced.
 */
export async function exportOrg(deps: { db: Db; blobs: BlobStore }, orgId: string, file: string): Promise<ExportResult> {
  await registerBlobs(deps.db); // blobs written since the last expiry pass get their rows, so they are exported too
  const rows = await exportOrgRows(deps.db, orgId);
  const keys = (rows.blobs as Array<{ key: string; expired_at: unknown }>).filter((b) => !b.expired_at).map((b) => b.key);
  // Opened before anything is written: an existing file fails here, not halfway through the stream.
  const handle = await open(file, 'wx', 0o600);
  const pack = tar.pack();
  const written = pipeline(pack, handle.createWriteStream());
  written.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  const entry = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o600 }, data, (e) => (e ? reject(e) : resolve())));
  let blobs = 0;
  let missingBlobs = 0;
  try {
    await entry('data.json', Buffer.from(JSON.stringify({ exportedAt: new Date().toISOString(), orgId, tables: rows }, null, 2)));
    for (const key of keys) {
      const data = await deps.blobs.get(key);
      if (!data) {
        missingBlobs++;
        continue;
      }
      await entry(`blobs/${key}`, data);
      blobs++;
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  await written;
  return { file, tables: Object.fromEntries(Object.entries(rows).map(([t, r]) => [t, r.length])), blobs, missingBlobs };
}
