import { randomBytes } from 'node:crypto';
import { generateKeyringEntry, KeyringMasterKey, Vault } from '../../src/security/index.js';
import { listAudit, type Db } from '../../src/store/index.js';
import { createTestOrg, DB_KINDS, openTestDb } from '../helpers/db.js';

describe.each(DB_KINDS)('vault on %s', (kind) => {
  let db: Db;
  let keyring: string;
  let vault: Vault;
  beforeAll(async () => {
    db = await openTestDb(kind);
  });
  beforeEach(() => {
    keyring = generateKeyringEntry(1);
    vault = new Vault(db, new KeyringMasterKey(keyring));
  });
  afterAll(async () => db.close());

  it('stores a secret encrypted and reveals it at use, auditing the decrypt', async () => {
    const orgId = await createTestOrg(db, vault);
    const id = await vault.storeSecret(orgId, 'gitlab_token', 'glpat-super-secret-token');
    const [row] = await db.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM secrets WHERE id = $1', [id]);
    expect(Buffer.from(row!.ciphertext).toString('utf8')).not.toContain('glpat');
    expect(await vault.revealSecret(id, { actor: 'test', purpose: 'unit' })).toBe('glpat-super-secret-token');
    const audit = await listAudit(db, { subject: id, action: 'secret.decrypt' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('glpat');
  });

  it('fails when the ciphertext, nonce, record id or key version is tampered with', async () => {
    const orgId = await createTestOrg(db, vault);
    const sealed = await vault.seal(orgId, 'rec_1', 'hello');
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0]! ^= 1;
    await expect(vault.open(orgId, 'rec_1', { ...sealed, ciphertext: flipped })).rejects.toMatchObject({ code: 'vault_tampered' });
    await expect(vault.open(orgId, 'rec_1', { ...sealed, nonce: randomBytes(12) })).rejects.toMatchObject({ code: 'vault_tampered' });
    await expect(vault.open(orgId, 'rec_2', sealed)).rejects.toMatchObject({ code: 'vault_tampered' });
    await vault.rotateOrgKey(orgId);
    await expect(vault.open(orgId, 'rec_1', { ...sealed, keyVersion: 2 })).rejects.toMatchObject({ code: 'vault_tampered' });
    expect((await vault.open(orgId, 'rec_1', sealed)).toString()).toBe('hello');
  });

  it("cannot open one org's record with another org's key", async () => {
    const a = await createTestOrg(db, vault, 'org a');
    const b = await createTestOrg(db, vault, 'org b');
    const sealed = await vault.seal(a, 'rec_1', 'only for a');
    await expect(vault.open(b, 'rec_1', sealed)).rejects.toMatchObject({ code: 'vault_tampered' });
  });

  it('fails when a wrapped org key is tampered with in the database', async () => {
    const orgId = await createTestOrg(db, vault);
    const id = await vault.storeSecret(orgId, 'ai_key', 'sk-ai');
    const [row] = await db.query<{ wrapped_key: Buffer }>('SELECT wrapped_key FROM org_keys WHERE org_id = $1', [orgId]);
    const wrapped = Buffer.from(row!.wrapped_key);
    wrapped[wrapped.length - 1]! ^= 0x80;
    await db.query('UPDATE org_keys SET wrapped_key = $1 WHERE org_id = $2', [wrapped, orgId]);
    await expect(vault.revealSecret(id, { actor: 't', purpose: 't' })).rejects.toMatchObject({ code: 'vault_tampered' });
  });

  it('rotates the master key by rewrapping: old records stay readable, data is not re-encrypted', async () => {
    // Its own database: rotation rewraps every org key in it.
    const db = await openTestDb(kind);
    const vault = new Vault(db, new KeyringMasterKey(keyring));
    try {
      const orgId = await createTestOrg(db, vault);
      const id = await vault.storeSecret(orgId, 'slack_bot_token', 'xoxb-old');
      const [before] = await db.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM secrets WHERE id = $1', [id]);

      const v2 = generateKeyringEntry(2);
      vault.setMasterKey(new KeyringMasterKey(`${v2},${keyring}`));
      // Before rewrap, the old wrapping is still readable (no downtime window).
      expect(await vault.revealSecret(id, { actor: 't', purpose: 't' })).toBe('xoxb-old');
      expect(await vault.rewrapOrgKeys()).toEqual({ rewrapped: 1, current: 2 });
      const [key] = await db.query<{ master_version: number }>('SELECT master_version FROM org_keys WHERE org_id = $1', [orgId]);
      expect(Number(key!.master_version)).toBe(2);
      const [after] = await db.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM secrets WHERE id = $1', [id]);
      expect(Buffer.from(after!.ciphertext).equals(Buffer.from(before!.ciphertext))).toBe(true);

      // After the rewrap the old master version can be dropped from the keyring.
      const onlyNew = new Vault(db, new KeyringMasterKey(v2));
      expect(await onlyNew.revealSecret(id, { actor: 't', purpose: 't' })).toBe('xoxb-old');
      // A keyring that lacks the version a key is wrapped with fails clearly.
      const onlyOld = new Vault(db, new KeyringMasterKey(keyring));
      await expect(onlyOld.revealSecret(id, { actor: 't', purpose: 't' })).rejects.toMatchObject({ code: 'master_key_missing' });
    } finally {
      await db.close();
    }
  });

  it('never writes the master key to the database', async () => {
    const orgId = await createTestOrg(db, vault);
    await vault.storeSecret(orgId, 'ai_key', 'sk-whatever');
    const masterBytes = Buffer.from(keyring.split(':')[1]!, 'base64');
    const dumps = await Promise.all(['orgs', 'org_keys', 'secrets', 'audit_events'].map((t) => db.query(`SELECT * FROM ${t}`)));
    for (const rows of dumps) {
      for (const row of rows) {
        for (const value of Object.values(row)) {
          const bytes = Buffer.isBuffer(value) || value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(JSON.stringify(value ?? null));
          expect(bytes.includes(masterBytes)).toBe(false);
          expect(bytes.toString('utf8')).not.toContain(keyring.split(':')[1]!);
        }
      }
    }
  });
});
