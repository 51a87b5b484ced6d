import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { addLocalKeyringVersion, issueApiKey, KeyringMasterKey, loadOrCreateLocalKeyring, type Vault } from '../security/index.js';
import {
  addMember,
  findVerifiedUserId,
  insertInvite,
  insertOrg,
  linkInstallationToOrg,
  listOrgs,
  migrate,
  OPERATOR_INVITER,
  resolveOrg,
  type BlobStore,
  type Db,
  type ErasureCacheSubjects,
} from '../store/index.js';

/**
 * Operator actions shared by the `userz` CLI and the server's admin endpoint. The CLI
 * runs them in-process against Postgres, or asks the running server to run them when the
 * embedded PGlite directory is held by that server (PGlite admits one process).
 * Each takes parsed input and returns a JSON-able result; secrets in results (a new sk_
 * key) are shown once by the caller and never logged.
 */
export interface OpsDeps {
  db: Db;
  vault: Vault;
  /** Local keyring file when the master key is not from the environment (embedded default). */
  localKeyringFile?: string;
  /** Extra operations contributed by other modules (apps, GitLab repos, data deletion and export). */
  extra?: Record<string, Operation>;
  /** The blob store, for operations that delete or export blobs. */
  blobs?: BlobStore;
  /**
   * Deletion on request also removes the rate-limit entries it can name (lifecycle/erase.ts). The CLI's
   * cache is the server's when REDIS_URL is set; with the embedded in-memory cache it is the CLI's own.
   */
  forgetErasedCache?: (subjects: ErasureCacheSubjects) => Promise<unknown>;
}

export interface Operation<I = unknown, O = unknown> {
  input: z.ZodType<I>;
  run(deps: OpsDeps, input: I): Promise<O>;
}

/** `init --owner`: how long the named owner's standing invite waits for them to sign up. */
const OWNER_INVITE_TTL_MS = 365 * 24 * 3600 * 1000;

const init: Operation<{ name: string; owner?: string }, { orgId: string; orgName: string; apiKey: string; apiKeyId: string; owner?: string }> = {
  input: z.object({ name: z.string().trim().min(1).max(200).default('default'), owner: z.string().trim().toLowerCase().max(254).pipe(z.email()).optional() }),
  async run(deps, { name, owner }) {
    return deps.db.transaction(async (tx) => {
      const existing = await listOrgs(tx);
      if (existing.length > 0) throw new UserzError('already_initialized', `Userz already has an org (${existing[0]!.id}); init creates only the first one`);
      const org = await insertOrg(tx, name, 'cli');
      await deps.vault.createOrgKey(tx, org.id);
      const key = await issueApiKey(tx, org.id, { label: 'first key', actor: 'cli' });
      if (owner) {
        // The console's first owner: now if that address is already verified, else when it is.
        const userId = await findVerifiedUserId(tx, owner);
        if (userId) await addMember(tx, { orgId: org.id, userId, role: 'owner', actor: 'cli' });
        else {
          const tokenHash = createHash('sha256').update(randomBytes(32)).digest('hex');
          await insertInvite(tx, {
            orgId: org.id,
            email: owner,
            role: 'owner',
            tokenHash,
            expiresAt: new Date(Date.now() + OWNER_INVITE_TTL_MS),
            invitedBy: OPERATOR_INVITER,
          });
        }
      }
      return { orgId: org.id, orgName: org.name, apiKey: key.key, apiKeyId: key.id, ...(owner ? { owner } : {}) };
    });
  },
};

const migrateOp: Operation<Record<string, never>, { applied: string[]; alreadyApplied: number }> = {
  input: z.object({}).strict(),
  run: (deps) => migrate(deps.db),
};

const keysRotate: Operation<Record<string, never>, { masterVersion: number; rewrapped: number }> = {
  input: z.object({}).strict(),
  async run(deps) {
    if (deps.localKeyringFile) {
      // Embedded default: the keyring is ours to extend. New version first, then rewrap.
      addLocalKeyringVersion(deps.localKeyringFile);
      deps.vault.setMasterKey(new KeyringMasterKey(loadOrCreateLocalKeyring(deps.localKeyringFile)));
    }
    const { rewrapped, current } = await deps.vault.rewrapOrgKeys();
    return { masterVersion: current, rewrapped };
  },
};

/**
 * The operator's explicit act: this installation (its repos now and later) belongs to this
 * org. The operator may also move an installation; Apps of the old org lose those repos.
 */
const linkInstallation: Operation<{ org?: string; installationId: number }, { orgId: string; repos: number; previousOrgId: string | null }> = {
  input: z.object({ org: z.string().optional(), installationId: z.coerce.number().int().positive() }),
  async run(deps, input) {
    const org = await resolveOrg(deps.db, input.org);
    const linked = await deps.db.transaction((tx) =>
      linkInstallationToOrg(tx, { installationId: input.installationId, orgId: org.id, actor: 'cli', allowMove: true }),
    );
    return { orgId: org.id, ...linked };
  },
};

export const OPERATIONS: Record<string, Operation> = {
  init,
  migrate: migrateOp,
  'keys.rotate': keysRotate,
  'repos.link-installation': linkInstallation,
};

export async function runOperation(deps: OpsDeps, name: string, rawInput: unknown): Promise<unknown> {
  const op = deps.extra?.[name] ?? OPERATIONS[name];
  if (!op) throw new UserzError('unknown_operation', `Unknown operation ${name}`);
  const parsed = op.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    throw new UserzError('invalid_input', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  }
  return op.run(deps, parsed.data);
}
