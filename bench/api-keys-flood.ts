/**
 * The forged-key flood of bench/api-keys.bench.ts, as a child process of its own: autocannon
 * sending well-formed `sk_` keys with wrong secrets, one flood at a time, from a start
 * message until the stop message, answering each flood's status counts. One process serves
 * every flood phase, and it imports only what a flood needs, so a phase does not pay the
 * start of a process that loads the whole App API (seconds of it on a loaded 2-core machine).
 */
import { formatApiKey } from '../src/security/api-keys.js';
import { randomBase62 } from '../src/store/ids.js';

export interface FloodStart {
  url: string;
  connections: number;
  /** A fresh X-Forwarded-For per request (behind a trusted proxy), or one address for all. */
  manyAddresses: boolean;
  /** Requests per second offered. */
  rate: number;
}

type Instance = { stop(): void; on(e: 'response', f: (client: unknown, status: number) => void): void };

const autocannon = (await import('autocannon' as string)).default as (opts: Record<string, unknown>) => Instance;
let n = 0;
let current: { instance: Instance; statuses: Record<string, number> } | undefined;
process.on('message', (m: { start?: FloodStart; stop?: boolean }) => {
  if (m.start) {
    const { url, connections, manyAddresses, rate } = m.start;
    const statuses: Record<string, number> = {};
    const instance = autocannon({
      url,
      connections,
      overallRate: rate,
      duration: 3600,
      requests: [
        {
          setupRequest: (r: Record<string, unknown>) => ({
            ...r,
            method: 'GET',
            path: '/api/v1/apps/app_none',
            headers: {
              authorization: `Bearer ${formatApiKey(randomBase62(12), randomBase62(43))}`,
              'x-forwarded-for': manyAddresses ? `10.${(++n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` : '198.51.100.66',
            },
          }),
        },
      ],
    });
    instance.on('response', (_c, status) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    current = { instance, statuses };
    process.send!({ flooding: true });
  }
  if (m.stop && current) {
    current.instance.stop();
    process.send!({ statuses: current.statuses });
    current = undefined;
  }
});
process.send!({ floodReady: true });
