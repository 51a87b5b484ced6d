import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserzError } from '../errors.js';

/**
 * The master key wraps each org's data key and never enters the database. The interface
 * is shaped like a KMS (wrap/unwrap by key version, with context bound in), so a cloud KMS
 * can replace the environment keyring without touching the vault.
 */
export interface MasterKeyProvider {
  readonly currentVersion: number;
  hasVersion(version: number): boolean;
  wrap(dataKey: Buffer, context: string): Promise<{ masterVersion: number; wrapped: Buffer }>;
  unwrap(masterVersion: number, wrapped: Buffer, context: string): Promise<Buffer>;
}

const NONCE = 12;
const TAG = 16;

/**
 * A keyring of AES-256 keys from `USERZ_MASTER_KEY`: `VERSION:BASE64[,VERSION:BASE64…]`.
 * The highest version wraps; every listed version unwraps. Rotation: add a new version,
 * restart, run `userz keys rotate`, then drop the old version.
 */
export class KeyringMasterKey implements MasterKeyProvider {
  private readonly keys: Map<number, Buffer>;
  readonly currentVersion: number;

  constructor(keyring: string) {
    this.keys = parseKeyring(keyring);
    this.currentVersion = Math.max(...this.keys.keys());
  }

  hasVersion(version: number): boolean {
    return this.keys.has(version);
  }

  async wrap(dataKey: Buffer, context: string) {
    const key = this.keys.get(this.currentVersion)!;
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(`${context}|master:${this.currentVersion}`));
    const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { masterVersion: this.currentVersion, wrapped: Buffer.concat([nonce, ct, cipher.getAuthTag()]) };
  }

  async unwrap(masterVersion: number, wrapped: Buffer, context: string) {
    const key = this.keys.get(masterVersion);
    if (!key) throw new UserzError('master_key_missing', `Master key version ${masterVersion} is not in USERZ_MASTER_KEY`);
    if (wrapped.length < NONCE + TAG + 1) throw new UserzError('vault_tampered', 'Wrapped key is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, NONCE));
      decipher.setAAD(Buffer.from(`${context}|master:${masterVersion}`));
      decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG));
      return Buffer.concat([decipher.update(wrapped.subarray(NONCE, wrapped.length - TAG)), decipher.final()]);
    } catch (e) {
      throw new UserzError('vault_tampered', 'Wrapped key failed authentication', { cause: e });
    }
  }
}

export function parseKeyring(text: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,6}):([A-Za-z0-9+/=_-]+)$/.exec(part);
    if (!m) throw new UserzError('config_invalid', 'USERZ_MASTER_KEY must be VERSION:BASE64KEY[,VERSION:BASE64KEY…]');
    const key = Buffer.from(m[2]!, 'base64');
    if (key.length !== 32) throw new UserzError('config_invalid', `USERZ_MASTER_KEY version ${m[1]} must be 32 bytes of base64`);
    keys.set(Number(m[1]), key);
  }
  if (keys.size === 0) throw new UserzError('config_invalid', 'USERZ_MASTER_KEY is empty');
  return keys;
}

export function generateKeyringEntry(version: number): string {
  return `${version}:${randomBytes(32).toString('base64')}`;
}

/**
 * Embedded default only: with no USERZ_MASTER_KEY, the keyring lives in a file next to
 * the data directory (mode 0600), never in the database. Production sets the variable.
 */
export function loadOrCreateLocalKeyring(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${generateKeyringEntry(1)}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** Adds a new highest version to a local keyring file; returns the new version. */
export function addLocalKeyringVersion(file: string): number {
  const current = parseKeyring(loadOrCreateLocalKeyring(file));
  const version = Math.max(...current.keys()) + 1;
  const text = [generateKeyringEntry(version), ...[...current].map(([v, k]) => `${v}:${k.toString('base64')}`)].join(',');
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return version;
}
