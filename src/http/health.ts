import type { Router } from './router.js';
import { sendJson } from './errors.js';

export type ReadinessCheck = { name: string; required: boolean; check: () => Promise<void> };

/**
 * `/healthz`: the process is up (no dependency checks, so a load balancer never kills a
 * process for a database blip). `/readyz`: each dependency, 503 when a required one fails.
 * Checks are bounded by a timeout so a hung dependency cannot hang the probe.
 */
export function registerHealthRoutes(router: Router, checks: ReadinessCheck[], timeoutMs = 2_000): void {
  router.add('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  router.add('GET', '/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), timeoutMs);
          return { name: c.name, required: c.required, ok: true as const };
        } catch (e) {
          return { name: c.name, required: c.required, ok: false as const, error: e instanceof Error ? e.message.slice(0, 200) : 'failed' };
        }
      }),
    );
    const ready = results.every((r) => r.ok || !r.required);
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks: results });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
