// Lets plain `node --import ./scripts/register-ts.js file.ts` run TypeScript (benchmarks,
// the triage eval, the CLI in development) through tsx's loader.
import { register } from 'tsx/esm/api';

register();
