import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UserzError } from '../errors.js';
import {
  getOrgKey,
  getSecret,
  insertOrgKey,
  insertSecret,
  latestOrgKeyVersion,
  listOrgKeysNotWrappedBy,
  newId,
  recordAudit,
  rewrapOrgKey,
  type Db,
  type Queryable,
} from '../store/index.js';
import type { MasterKeyProvider } from './master-key.js';

/**
 * Envelope encryption (DESIGN.md): each org has a data key (AES-256-GCM); records are
 * sealed with it under a random 96-bit nonce and an AAD that binds org id, record id and
 * data-key version, so a ciphertext cannot be moved to another org, record or version.
 * Data keys are stored only wrapped by the master key. Plaintext exists only in memory,
 * at use, and every decrypt is audited.
 */
export interface Sealed {
  keyVersion: number;
  nonce: Buffer;
  ciphertext: Buffer; // includes the 16-byte GCM tag at the end
}

const TAG = 16;

export type SecretKind =
  'ai_key' | 'gitlab_token' | 'gitlab_webhook_secret' | 'slack_bot_token' | 'discord_bot_token' | 'app_signing_secret' | 'webhook_signing_secret';

export class Vault {
  constructor(
    private readonly db: Db,
    private master: MasterKeyProvider,
  ) {}

  /** Swap in a keyring with a new current version (rotation without restart). */
  setMasterKey(master: MasterKeyProvider): void {
    this.master = master;
  }

  get masterVersion(): number {
    return this.master.currentVersion;
  }

  /** Creates the org's first data key; call inside the transaction that creates the org. */
  async createOrgKey(tx: Queryable, orgId: string): Promise<void> {
    await this.addOrgKey(tx, orgId, 1);
  }

  /** Adds a new data-key version for the org: new records use it, old ones stay readable. */
  async rotateOrgKey(orgId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const version = ((await latestOrgKeyVersion(tx, orgId)) ?? 0) + 1;
      await this.addOrgKey(tx, orgId, version);
      await recordAudit(tx, { actor: 'system', action: 'org_key.rotate', orgId, subject: orgId, data: { keyVersion: version } });
      return version;
    });
  }

  private async addOrgKey(tx: Queryable, orgId: string, keyVersion: number): Promise<void> {
    const dataKey = randomBytes(32);
    try {
      const { masterVersion, wrapped } = await this.master.wrap(dataKey, orgKeyContext(orgId, keyVersion));
      await insertOrgKey(tx, { orgId, keyVersion, masterVersion, wrappedKey: wrapped });
    } finally {
      dataKey.fill(0);
    }
  }

  /** Seals plaintext for one record with the org's newest data key. */
  async seal(orgId: string, recordId: string, plaintext: Buffer | string, db: Queryable = this.db): Promise<Sealed> {
    const keyVersion = await latestOrgKeyVersion(db, orgId);
    if (keyVersion === null) throw new UserzError('org_key_missing', `Org ${orgId} has no data key`);
    return this.withDataKey(orgId, keyVersion, db, (key) => {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(recordAad(orgId, recordId, keyVersion));
      const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
      return { keyVersion, nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
    });
  }

  /** Opens a sealed record; any change to ciphertext, nonce, org, record or version fails. */
  async open(orgId: string, recordId: string, sealed: Sealed, db: Queryable = this.db): Promise<Buffer> {
    return this.withDataKey(orgId, sealed.keyVersion, db, (key) => {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
        decipher.setAAD(recordAad(orgId, recordId, sealed.keyVersion));
        decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG));
        return Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG)), decipher.final()]);
      } catch (e) {
        throw new UserzError('vault_tampered', 'Secret failed authentication', { cause: e });
      }
    });
  }

  /** Stores a secret encrypted; returns its id. */
  async storeSecret(orgId: string, kind: SecretKind, plaintext: string, db: Queryable = this.db): Promise<string> {
    const id = newId('sec');
    const sealed = await this.seal(orgId, id, plaintext, db);
    await insertSecret(db, { id, orgId, kind, keyVersion: sealed.keyVersion, nonce: sealed.nonce, ciphertext: sealed.ciphertext });
    await recordAudit(db, { actor: 'system', action: 'secret.store', orgId, subject: id, data: { kind } });
    return id;
  }

  /** Decrypts a secret at use. Audited with who asked and why; never logged. */
  async revealSecret(secretId: string, use: { actor: string; purpose: string }): Promise<string> {
    const row = await getSecret(this.db, secretId);
    if (!row) throw new UserzError('secret_not_found', `Secret ${secretId} does not exist`);
    const plain = await this.open(row.orgId, secretId, { keyVersion: row.keyVersion, nonce: row.nonce, ciphertext: row.ciphertext });
    await recordAudit(this.db, {
      actor: use.actor,
      action: 'secret.decrypt',
      orgId: row.orgId,
      subject: secretId,
      data: { kind: row.kind, purpose: use.purpose },
    });
    return plain.toString('utf8');
  }

  /**
   * Master-key rotation: rewraps every org data key still wrapped by an older master
   * version. Records are not re-encrypted. Each row is updated atomically, so readers
   * see either the old wrapping (still unwrappable) or the new one: no downtime.
   */
  async rewrapOrgKeys(): Promise<{ rewrapped: number; current: number }> {
    const stale = await listOrgKeysNotWrappedBy(this.db, this.master.currentVersion);
    let rewrapped = 0;
    for (const row of stale) {
      const context = orgKeyContext(row.orgId, row.keyVersion);
      const dataKey = await this.master.unwrap(row.masterVersion, row.wrappedKey, context);
      try {
        const { masterVersion, wrapped } = await this.master.wrap(dataKey, context);
        if (await rewrapOrgKey(this.db, row, { masterVersion, wrappedKey: wrapped })) rewrapped += 1;
      } finally {
        dataKey.fill(0);
      }
    }
    await recordAudit(this.db, { actor: 'system', action: 'master_key.rotate', data: { masterVersion: this.master.currentVersion, rewrapped } });
    return { rewrapped, current: this.master.currentVersion };
  }

  private async withDataKey<T>(orgId: string, keyVersion: number, db: Queryable, fn: (key: Buffer) => T): Promise<T> {
    const row = await getOrgKey(db, orgId, keyVersion);
    if (!row) throw new UserzError('vault_tampered', 'No data key for this org and key version');
    const key = await this.master.unwrap(row.masterVersion, row.wrappedKey, orgKeyContext(orgId, keyVersion));
    try {
      return fn(key);
    } finally {
      key.fill(0);
    }
  }
}

function orgKeyContext(orgId: string, keyVersion: number): string {
  return `userz:org-key:${orgId}:${keyVersion}`;
}

function recordAad(orgId: string, recordId: string, keyVersion: number): Buffer {
  return Buffer.from(JSON.stringify(['userz:record', orgId, recordId, keyVersion]));
}
