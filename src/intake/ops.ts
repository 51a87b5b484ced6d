import { z } from 'zod';
import type { Operation } from '../ops/index.js';
import { resolveOrg } from '../store/index.js';
import { createApp } from './apps.js';

/** `userz app create`: an intake operation offered through the CLI / admin-endpoint path (ops/). */
const appCreate: Operation<{ org?: string; name: string; origins: string[]; repo?: string }> = {
  input: z.object({ org: z.string().optional(), name: z.string(), origins: z.array(z.string()).default([]), repo: z.string().optional() }),
  async run(deps, input) {
    const org = await resolveOrg(deps.db, input.org);
    const created = await createApp(deps.db, deps.vault, { orgId: org.id, name: input.name, origins: input.origins, repoId: input.repo ?? null, actor: 'cli' });
    return { appId: created.app.id, orgId: org.id, publicKey: created.publicKey, signingSecret: created.signingSecret, origins: created.app.origins };
  },
};

export const INTAKE_OPS: Record<string, Operation> = { 'app.create': appCreate };
