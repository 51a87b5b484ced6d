// `npm run build` copies what tsc does not: the SQL migrations next to the compiled store, and
// the console's stylesheet and script next to the compiled console (console/assets-route.ts reads them there).
import { cpSync } from 'node:fs';

cpSync('src/store/migrations', 'lib/store/migrations', { recursive: true });
cpSync('src/console/assets', 'lib/console/assets', { recursive: true });
