import type { Readable } from 'node:stream';

/**
 * Object storage for screenshots and run logs. Keys are slash-separated ASCII
 * (`reports/rep_…/screenshot.png`, `runs/run_…/log.jsonl`); implementations refuse
 * anything else so a key can never name a path outside the store.
 */
export interface BlobStore {
  put(key: string, data: Buffer | Readable, meta?: { contentType?: string }): Promise<{ size: number }>;
  get(key: string): Promise<Buffer | null>;
  delete(key: string): Promise<void>;
  /** Deletes blobs written before `cutoff` under `prefix`; returns how many. */
  deleteOlderThan(prefix: string, cutoff: Date): Promise<number>;
  ping(): Promise<void>;
}
