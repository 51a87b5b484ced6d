import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { UserzError } from '../errors.js';
import { bearerToken, codeToStatus, listen, sendError, sendJson, type RequestRecord, type Router, type RunningServer } from '../http/index.js';

/** One row of the job queue as the store counts it at scrape time (store/jobs.ts queueStats). */
export interface QueueStat {
  kind: string;
  depth: number;
  oldestAgeSeconds: number;
}

export interface MetricsOptions {
  /** Read at every scrape: one query in the store. */
  queueStats?: () => Promise<QueueStat[]>;
  /** Read at every scrape: the sandbox pool's size (warm containers), when a driver runs. */
  poolSize?: () => number;
}

/** Job kinds always exported (zero when empty), so a dashboard shows a flat line, not a gap. */
const JOB_KINDS = ['triage', 'run', 'notify', 'lifecycle'];

/**
 * Intake routes (by route pattern) and the channel each serves, for refusals at the HTTP edge
 * (an error answer with its code). Acceptances are counted where a report is stored
 * (reportAccepted), because Slack and Discord answer 200 with an ephemeral message whether a
 * report was stored or not. Labels are route patterns, sources and error codes, never raw
 * paths or request content, so cardinality stays bounded and no report text or secret can
 * reach the metrics output.
 */
const INTAKE_ROUTES: Record<string, string> = {
  'POST /api/v1/reports': 'widget',
  'POST /slack/events': 'slack',
  'POST /discord/interactions': 'discord',
};

/** Routes whose `bad_signature` answers are signature failures, by provider. */
const SIGNED_ROUTES: Record<string, string> = {
  'POST /api/github/webhooks': 'github',
  'POST /api/gitlab/webhooks': 'gitlab',
  'POST /slack/events': 'slack',
  'POST /discord/interactions': 'discord',
};

/**
 * The process's Prometheus registry (one per Metrics, never prom-client's global one, so tests
 * and several apps in one process do not share counters). Modules report through the small
 * methods below; main.ts wires them in.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'route'>;
  private readonly intakeAccepted: Counter<'channel'>;
  private readonly intakeRefused: Counter<'channel' | 'code'>;
  private readonly signatureFailures: Counter<'provider'>;
  private readonly runs: Counter<'outcome'>;
  private readonly runDuration: Histogram<'outcome'>;
  private readonly sandboxStart: Histogram<string>;
  private readonly modelTokens: Counter<'purpose' | 'direction'>;
  private readonly modelCost: Counter<'purpose'>;
  private readonly guardrail: Counter<'rule'>;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'userz_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'userz_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.intakeAccepted = new Counter({
      name: 'userz_intake_accepted_total',
      help: 'Reports stored by intake, by channel (the report source: widget, api, slack, discord)',
      labelNames: ['channel'],
      registers,
    });
    this.intakeRefused = new Counter({
      name: 'userz_intake_refused_total',
      help: 'Intake requests refused, by channel and error code',
      labelNames: ['channel', 'code'],
      registers,
    });
    this.signatureFailures = new Counter({
      name: 'userz_signature_failures_total',
      help: 'Requests whose signature or webhook token did not verify, by provider',
      labelNames: ['provider'],
      registers,
    });
    this.runs = new Counter({ name: 'userz_runs_total', help: 'Agent runs ended, by outcome (final run state)', labelNames: ['outcome'], registers });
    this.runDuration = new Histogram({
      name: 'userz_run_duration_seconds',
      help: 'Agent run duration from start to end, by outcome',
      labelNames: ['outcome'],
      buckets: [10, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600],
      registers,
    });
    this.sandboxStart = new Histogram({
      name: 'userz_sandbox_start_duration_seconds',
      help: 'Time to get a started sandbox for a run (from the warm pool or a cold start)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.modelTokens = new Counter({
      name: 'userz_model_tokens_total',
      help: 'Model tokens used, by purpose (agent) and direction (input/output)',
      labelNames: ['purpose', 'direction'],
      registers,
    });
    this.modelCost = new Counter({
      name: 'userz_model_cost_usd_total',
      help: 'Model cost in US dollars as the broker prices usage, by purpose',
      labelNames: ['purpose'],
      registers,
    });
    this.guardrail = new Counter({
      name: 'userz_guardrail_rejections_total',
      help: 'Change sets the guardrail rejected, by rule id',
      labelNames: ['rule'],
      registers,
    });

    const queueStats = opts.queueStats;
    // Both queue gauges come from one query per scrape: the second collect awaits the first's promise.
    let pending: Promise<QueueStat[]> | undefined;
    const read = (): Promise<QueueStat[]> => {
      if (!queueStats) return Promise.resolve([]);
      return (pending ??= queueStats().finally(() => setImmediate(() => (pending = undefined))));
    };
    new Gauge({
      name: 'userz_queue_depth',
      help: 'Jobs not yet done (due or scheduled), by kind',
      labelNames: ['kind'],
      registers,
      async collect() {
        const stats = await read();
        for (const kind of JOB_KINDS) this.set({ kind }, 0);
        for (const s of stats) this.set({ kind: s.kind }, s.depth);
      },
    });
    new Gauge({
      name: 'userz_queue_oldest_job_age_seconds',
      help: 'How long the oldest due job has waited since it was due, by kind (0 when none is due)',
      labelNames: ['kind'],
      registers,
      async collect() {
        const stats = await read();
        for (const kind of JOB_KINDS) this.set({ kind }, 0);
        for (const s of stats) this.set({ kind: s.kind }, s.oldestAgeSeconds);
      },
    });
    const poolSize = opts.poolSize;
    new Gauge({
      name: 'userz_sandbox_pool_size',
      help: 'Warm sandboxes ready in the pool',
      registers,
      collect() {
        if (poolSize) this.set(poolSize());
      },
    });
  }

  /** Called by the HTTP server once per answered request (http/server.ts onRequest). */
  readonly observeRequest = (r: RequestRecord): void => {
    const route = r.route ?? 'unmatched';
    this.httpRequests.inc({ method: r.method, route, status: String(r.status) });
    this.httpDuration.observe({ route }, r.seconds);
    const channel = r.route ? INTAKE_ROUTES[r.route] : undefined;
    if (channel && r.code) this.intakeRefused.inc({ channel, code: r.code });
    const provider = r.route ? SIGNED_ROUTES[r.route] : undefined;
    if (provider && r.code === 'bad_signature') this.signatureFailures.inc({ provider });
  };

  /**
   * A chat refusal answered inside a 200 (Slack's and Discord's ephemeral messages), which
   * the HTTP edge cannot see as one: counted by channel and the refusal's error code.
   */
  reportRefused(channel: string, code: string): void {
    this.intakeRefused.inc({ channel, code });
  }

  /** A report stored by intake, by its source (widget, api, slack, discord). */
  reportAccepted(source: string): void {
    this.intakeAccepted.inc({ channel: source });
  }

  runEnded(outcome: string, seconds?: number): void {
    this.runs.inc({ outcome });
    if (seconds !== undefined) this.runDuration.observe({ outcome }, seconds);
  }

  sandboxStarted(seconds: number): void {
    this.sandboxStart.observe(seconds);
  }

  modelUsage(u: { purpose: string; inputTokens: number; outputTokens: number; costUsd?: number }): void {
    if (u.inputTokens > 0) this.modelTokens.inc({ purpose: u.purpose, direction: 'input' }, u.inputTokens);
    if (u.outputTokens > 0) this.modelTokens.inc({ purpose: u.purpose, direction: 'output' }, u.outputTokens);
    if (u.costUsd !== undefined && u.costUsd > 0) this.modelCost.inc({ purpose: u.purpose }, u.costUsd);
  }

  /** A repository's policy may name its own rules: an id that is not a plain identifier is counted as `custom`. */
  guardrailRejected(ruleId: string): void {
    this.guardrail.inc({ rule: /^[A-Za-z0-9_.:-]{1,64}$/.test(ruleId) ? ruleId : 'custom' });
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * `GET /metrics` behind `Authorization: Bearer <USERZ_METRICS_TOKEN>`. Without a configured
 * token the endpoint is closed (401 `invalid_metrics_token`, the same answer as a wrong token,
 * so a scraper's misconfiguration reads the same either way). Comparing digests keeps
 * timingSafeEqual from leaking the token's length.
 */
export function metricsHandler(metrics: Metrics, token: string | undefined): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const expected = token ? digest(token) : undefined;
  return async (req, res) => {
    const presented = bearerToken(req);
    if (!expected || !presented || !timingSafeEqual(digest(presented), expected)) {
      throw new UserzError('invalid_metrics_token', 'Metrics token is missing or wrong');
    }
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };
}

export function registerMetricsRoute(router: Router, metrics: Metrics, token: string | undefined): void {
  router.add('GET', '/metrics', metricsHandler(metrics, token));
}

/** `/metrics` alone on its own port (USERZ_METRICS_PORT), e.g. reachable only from the scraper's network. */
export async function startMetricsServer(opts: { metrics: Metrics; token: string | undefined; port: number; host: string }): Promise<RunningServer> {
  const handle = metricsHandler(opts.metrics, opts.token);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/(?<=.)\/+$/, '');
    if (path !== '/metrics') return sendJson(res, codeToStatus('not_found'), { error: { code: 'not_found', message: 'No such route' } });
    if (req.method !== 'GET')
      return sendJson(res, codeToStatus('method_not_allowed'), { error: { code: 'method_not_allowed', message: `${req.method} is not allowed here` } });
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  return listen(server, opts);
}

const digest = (s: string) => createHash('sha256').update(s).digest();
