import type { VerifiedApiKey } from './api-keys.js';

interface Entry {
  key: VerifiedApiKey;
  /** sha256 of the stored scrypt hash the presented key was proven against. */
  storedHashDigest: Buffer;
  expiresAt: number;
}

/**
 * Process memory of keys that passed the slow hash recently, keyed by sha256 of the
 * presented key (never the key itself). Bounded: the least recently used entry goes first
 * when full. An entry expires `ttlMs` after its last use, so a key in steady use is not
 * sent back through the hash gate in the middle of a flood; that is safe because every
 * use re-reads the key's row (ApiKeyVerifier) and the proof is tied to the row's hash.
 */
export class VerifiedKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(digest: string): Entry | null {
    const entry = this.entries.get(digest);
    if (!entry) return null;
    this.entries.delete(digest);
    const now = this.now();
    if (entry.expiresAt <= now) return null;
    entry.expiresAt = now + this.ttlMs;
    this.entries.set(digest, entry);
    return entry;
  }

  remember(digest: string, key: VerifiedApiKey, storedHashDigest: Buffer): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    this.entries.delete(digest);
    this.entries.set(digest, { key, storedHashDigest, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  drop(digest: string): void {
    this.entries.delete(digest);
  }

  /** Drops every entry of one key (at revocation). A scan: revocations are rare, lookups are not. */
  forgetKey(keyId: string): void {
    for (const [digest, entry] of this.entries) if (entry.key.id === keyId) this.entries.delete(digest);
  }

  get size(): number {
    return this.entries.size;
  }
}
