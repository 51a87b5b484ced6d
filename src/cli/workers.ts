import { startWorker } from '../pipeline/index.js';
import { ensureLifecycleJob } from '../store/index.js';
import type { RoleStarter } from './start.js';

/** Background roles started by `userz start` (worker role): the pipeline's job loop, with the recurring blob-expiry job in its table. */
export const WORKERS: RoleStarter[] = [
  async (deps) => {
    await ensureLifecycleJob(deps.store.db);
    return startWorker(deps.pipeline, { concurrency: { triage: deps.config.load.triageConcurrency } });
  },
];
