import type { Config } from '../config/index.js';
import { isUserzErrorCode } from '../error-codes.js';
import { UserzError } from '../errors.js';
import { createLogger } from '../log/index.js';
import { createDeps, opsDeps } from '../main.js';
import { runOperation } from '../ops/index.js';
import { readLiveServerFile } from './server-file.js';

/**
 * Runs an operator action where the data is. Against Postgres, in this process (many
 * processes may share a server). Against the embedded PGlite, which admits one process:
 * inside the running Userz server through its admin endpoint when one holds the data
 * directory, else in this process.
 */
export async function runOp(config: Config, name: string, input: unknown): Promise<unknown> {
  if (config.database.kind === 'pglite') {
    const server = readLiveServerFile(config.dataDir);
    if (server) return runRemote(server.url, server.adminToken, name, input);
  }
  const deps = await createDeps(config, createLogger({ level: 'silent' }));
  try {
    return await runOperation(opsDeps(deps), name, input);
  } finally {
    await deps.store.close();
  }
}

async function runRemote(url: string, token: string, name: string, input: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${url}/api/admin/ops/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
    });
  } catch (e) {
    throw new UserzError('server_unreachable', `The running Userz server at ${url} holds the embedded database but did not answer: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: { code: string; message: string } };
  if (!res.ok) {
    const code = isUserzErrorCode(body.error?.code) ? body.error.code : 'server_error';
    throw new UserzError(code, body.error?.message ?? `Server answered ${res.status}`, { details: { status: res.status } });
  }
  return body.result;
}
