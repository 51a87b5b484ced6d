import type { RoleStarter } from './start.js';

/** Background roles started by `userz start` (worker role). The pipeline adds its loop here. */
export const WORKERS: RoleStarter[] = [];
