// `npm run build` copies what tsc does not: the SQL migrations next to the compiled store.
import { cpSync } from 'node:fs';

cpSync('src/store/migrations', 'lib/store/migrations', { recursive: true });
