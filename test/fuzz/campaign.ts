// Runs generated cases against the fuzz target and keeps the score per endpoint:
// inputs, 2xx/4xx/5xx, crashes (no answer), bodies that leak exception text, p99, and
// after the run the store's partial writes. Inputs come from fc.sample with one seed,
// so a run is reproducible; failing cases are saved as fixtures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { apiCases, discordCases, githubCases, gitlabCases, pathCases, reportCases, slackCases, type Case } from './generators.js';
import { GITLAB_PROJECT_ID, GITLAB_SECRET, ORIGIN, type FuzzTarget } from './target.js';

export const ENDPOINTS = ['reports', 'slack', 'discord', 'github', 'gitlab', 'api', 'paths'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

// Cases name the target's keys by placeholder, so a saved case replays against a new target.
const PLACEHOLDERS = { publicKey: '{{publicKey}}', apiKey: '{{apiKey}}', appId: '{{appId}}' };

function fillPlaceholders(s: string, t: FuzzTarget): string {
  return s.replaceAll(PLACEHOLDERS.publicKey, t.publicKey).replaceAll(PLACEHOLDERS.apiKey, t.apiKey).replaceAll(PLACEHOLDERS.appId, t.appId);
}

export function casesFor(name: EndpointName): fc.Arbitrary<Case> {
  switch (name) {
    case 'reports':
      return reportCases({ publicKey: PLACEHOLDERS.publicKey, origin: ORIGIN });
    case 'slack':
      return slackCases();
    case 'discord':
      return discordCases();
    case 'github':
      return githubCases();
    case 'gitlab':
      return gitlabCases({ projectId: GITLAB_PROJECT_ID, token: GITLAB_SECRET });
    case 'api':
      return apiCases({ apiKey: PLACEHOLDERS.apiKey, appId: PLACEHOLDERS.appId });
    case 'paths':
      return pathCases();
  }
}

/** Exception text that must never leave the process: error names, stack frames, Postgres messages. */
export const LEAK =
  /Error|    at |Maximum call stack|violates|invalid input syntax|null value in column|invalid byte sequence|syntax error at or near|duplicate key value|out of range for type|unsupported Unicode escape/;

export interface Answer {
  status: number;
  body: string;
  ms: number;
}

export interface EndpointScore {
  endpoint: EndpointName;
  inputs: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
  crashes: number;
  leaks: number;
  p99ms: number;
  /** How often each error code answered, to see what the inputs reached. */
  codes: Record<string, number>;
  failures: Array<{ index: number; case: Case; status: number; body: string }>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** Sends one case; signs it over the exact body bytes first when it names a scheme. */
export function sendCase(t: FuzzTarget, c: Case): Promise<Answer> {
  const body =
    c.body === undefined ? undefined : c.bodyEncoding === 'base64' ? Buffer.from(c.body, 'base64') : Buffer.from(fillPlaceholders(c.body, t), 'utf8');
  const text = body?.toString('utf8') ?? '';
  const headers: Record<string, string> = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, fillPlaceholders(v, t)]));
  if (c.sign === 'slack') Object.assign(headers, t.signSlack(text));
  if (c.sign === 'discord') Object.assign(headers, t.signDiscord(text));
  if (c.sign === 'github') headers['x-hub-signature-256'] = t.signGitHub(text);
  if (body) headers['content-length'] = String(body.length);
  const url = new URL(t.url);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: c.method, path: fillPlaceholders(c.path, t), headers, agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: Number(process.hrtime.bigint() - started) / 1e6 }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function fuzzEndpoint(t: FuzzTarget, name: EndpointName, opts: { seed: number; runs: number; concurrency?: number }): Promise<EndpointScore> {
  const cases = fc.sample(casesFor(name), { seed: opts.seed, numRuns: opts.runs });
  const score: EndpointScore = { endpoint: name, inputs: cases.length, s2xx: 0, s4xx: 0, s5xx: 0, crashes: 0, leaks: 0, p99ms: 0, codes: {}, failures: [] };
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index]!;
      let answer: Answer;
      try {
        answer = await sendCase(t, c);
      } catch (e) {
        score.crashes++;
        score.failures.push({ index, case: c, status: 0, body: e instanceof Error ? e.message : String(e) });
        continue;
      }
      times.push(answer.ms);
      if (answer.status >= 500) score.s5xx++;
      else if (answer.status >= 400) score.s4xx++;
      else score.s2xx++;
      if (answer.status >= 400) {
        const code = errorCodeOf(answer.body) ?? String(answer.status);
        score.codes[code] = (score.codes[code] ?? 0) + 1;
      }
      const leak = LEAK.test(answer.body);
      if (leak) score.leaks++;
      if (answer.status >= 500 || leak) score.failures.push({ index, case: c, status: answer.status, body: answer.body.slice(0, 500) });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  times.sort((a, b) => a - b);
  score.p99ms = Math.round(times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? 0);
  return score;
}

/** Reports stored without their triage job or their audit event: what a half-finished write leaves. */
export async function countPartialWrites(t: FuzzTarget): Promise<{ reports: number; partial: number }> {
  const db = t.app.deps.store.db;
  const [total] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
  const [partial] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM reports r
      WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.key = 'triage:' || r.id)
         OR NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.subject = r.id AND a.action = 'report.receive')`,
  );
  return { reports: Number(total!.n), partial: Number(partial!.n) };
}

/** Writes each failing case of a score as a fixture file that fuzz.test.ts replays. */
export function saveFailures(dir: string, seed: number, score: EndpointScore, max = 5): string[] {
  if (score.failures.length === 0) return [];
  mkdirSync(dir, { recursive: true });
  return score.failures.slice(0, max).map((f) => {
    const file = join(dir, `${score.endpoint}-seed${seed}-${f.index}.json`);
    writeFileSync(file, `${JSON.stringify({ endpoint: score.endpoint, seed, index: f.index, status: f.status, body: f.body, case: f.case }, null, 2)}\n`);
    return file;
  });
}

export function formatScore(s: EndpointScore): string {
  const top = Object.entries(s.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([c, n]) => `${c}:${n}`)
    .join(' ');
  return `${s.endpoint.padEnd(8)} inputs=${s.inputs} 2xx=${s.s2xx} 4xx=${s.s4xx} 5xx=${s.s5xx} crashes=${s.crashes} leaks=${s.leaks} p99=${s.p99ms}ms  top refusals: ${top}`;
}

function errorCodeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
