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
  /** Every blob whose key starts with `prefix` ('' for all), in key order. */
  list(prefix: string): Promise<BlobEntry[]>;
  /** Deletes every blob whose key starts with `prefix` (not ''); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A URL that reads one blob without Userz in between, valid for `expiresInSeconds`
   * (at most 15 minutes); null when the store cannot hand out such URLs (the local
   * directory: the server streams the blob instead).
   */
  presignGet(key: string, expiresInSeconds: number): Promise<string | null>;
  ping(): Promise<void>;
}

export interface BlobEntry {
  key: string;
  size: number;
  modifiedAt: Date;
}

/** Presigned reads expire in minutes: a URL copied out of the console stops working soon after. */
export const MAX_PRESIGN_SECONDS = 15 * 60;
