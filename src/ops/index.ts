import { z } from 'zod';
import { UserzError } from '../errors.js';
import { addLocalKeyringVersion, issueApiKey, KeyringMasterKey, loadOrCreateLocalKeyring, type Vault } from '../security/index.js';
import { insertOrg, linkInstallationToOrg, listOrgs, migrate, resolveOrg, type BlobStore, type Db } from '../store/index.js';

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
}

export interface Operation<I = unknown, O = unknown> {
  input: z.ZodType<I>;
  run(deps: OpsDeps, input: I): Promise<O>;
}

const init: Operation<{ name: string }, { orgId: string; orgName: string; apiKey: string; apiKeyId: string }> = {
  input: z.object({ name: z.string().trim().min(1).max(200).default('default') }),
  async run(deps, { name }) {
    return deps.db.transaction(async (tx) => {
      const existing = await listOrgs(tx);
      if (existing.length > 0) throw new UserzError('already_initialized', `Userz already has an org (${existing[0]!.id}); init creates only the first one`);
      const org = await insertOrg(tx, name, 'cli');
      await deps.vault.createOrgKey(tx, org.id);
      const key = await issueApiKey(tx, org.id, { label: 'first key', actor: 'cli' });
      return { orgId: org.id, orgName: org.name, apiKey: key.key, apiKeyId: key.id };
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
