import { createHash, timingSafeEqual } from 'node:crypto';
import { UserzError } from '../errors.js';
import { parseJson, readBody } from './body.js';
import { sendJson } from './errors.js';
import { bearerToken } from './request.js';
import type { Router } from './router.js';

/**
 * `POST /api/admin/ops/:name`: lets the `userz` CLI run an operator action inside the
 * running server, which is the only process that may open the embedded PGlite directory.
 * The bearer token is random per server start and written only to a 0600 file in the
 * data directory (see cli/server-file.ts), so only a local operator can read it.
 */
export function registerAdminRoutes(router: Router, opts: { token: string; run: (name: string, input: unknown) => Promise<unknown> }): void {
  const expected = digest(opts.token);
  router.add('POST', '/api/admin/ops/:name', async (req, res, { params }) => {
    const presented = bearerToken(req);
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      throw new UserzError('invalid_admin_token', 'Admin token is missing or wrong');
    }
    const input = parseJson(await readBody(req, 64 * 1024));
    sendJson(res, 200, { result: await opts.run(params.name!, input) });
  });
}

// Comparing fixed-length digests keeps timingSafeEqual from leaking the token's length.
const digest = (s: string) => createHash('sha256').update(s).digest();
