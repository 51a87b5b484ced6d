import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { codeToStatus } from './status.js';

/**
 * Load shedding: each class of request has a bound on how many are served at once and
 * how many may wait, and a waiter gives up after `waitMs`. Past that the answer is
 * immediate: 503 `overloaded` with Retry-After (a well-formed "try again" for Slack and
 * Discord, whose apps show anything else as a failure). Without it an overload queues
 * without bound: every request gets slower (p99 3.2 s at 6× capacity) and memory grows
 * with the queue. Health checks are never shed, so an overloaded replica is not killed.
 */
export const SHED_CLASSES = ['ingest', 'chat', 'webhooks', 'api', 'console'] as const;
export type ShedClass = (typeof SHED_CLASSES)[number];

export interface ShedLimits {
  /** Requests of the class served at once; 0 turns shedding off for it. */
  inFlight: number;
  /** Requests that may wait for a slot. */
  queue: number;
}

export interface ShedOptions {
  limits: Record<ShedClass, ShedLimits>;
  /** Longest a request waits for a slot before it is shed. */
  waitMs: number;
  retryAfterSeconds?: number;
}

export const DEFAULT_SHED: ShedOptions = {
  limits: {
    // Little's law: at a few hundred req/s, 32 in flight is ~100 ms each. A larger bound
    // only lets each admitted request wait longer when the database slows down (at 128
    // the served p99 reached seconds in the overload bench).
    ingest: { inFlight: 32, queue: 64 },
    chat: { inFlight: 32, queue: 64 },
    webhooks: { inFlight: 16, queue: 32 },
    api: { inFlight: 32, queue: 64 },
    console: { inFlight: 16, queue: 32 },
  },
  // Chat must answer within 3 s: 250 ms waiting plus the 2 s ack deadline leaves margin.
  waitMs: 250,
  retryAfterSeconds: 1,
};

/** Which class a request belongs to; null for requests that are never shed (health). */
export function classifyRequest(method: string | undefined, rawUrl: string | undefined): ShedClass | null {
  const path = (rawUrl ?? '/').split('?')[0]!;
  if (path === '/healthz' || path === '/readyz') return null;
  if (path.startsWith('/slack/') || path.startsWith('/discord/')) return 'chat';
  if (path.endsWith('/webhooks') || path.startsWith('/api/github/') || path.startsWith('/api/gitlab/') || path.startsWith('/api/stripe/')) return 'webhooks';
  // The widget: its script, report posts (and their preflight) and status polls.
  if ((path === '/api/v1/reports' && method !== 'GET') || /^\/api\/v1\/reports\/[^/]+\/status$/.test(path) || path.startsWith('/widget')) return 'ingest';
  if (path.startsWith('/api/')) return 'api';
  return 'console';
}

class Lane {
  private active = 0;
  private readonly waiting: Array<(admitted: boolean) => void> = [];

  constructor(private readonly limits: ShedLimits) {}

  /** Resolves true with a slot held (call leave once), false when shed. */
  enter(waitMs: number): Promise<boolean> {
    if (this.limits.inFlight <= 0 || this.active < this.limits.inFlight) {
      this.active++;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= this.limits.queue) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(admit);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      }, waitMs);
      const admit = (admitted: boolean) => {
        clearTimeout(timer);
        resolve(admitted);
      };
      this.waiting.push(admit);
    });
  }

  leave(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the first waiter (active stays the same).
    if (next) next(true);
    else this.active--;
  }

  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}

export class LoadShedder {
  private readonly lanes: Record<ShedClass, Lane>;
  private readonly shedCounts: Record<ShedClass, number> = { ingest: 0, chat: 0, webhooks: 0, api: 0, console: 0 };

  constructor(readonly opts: ShedOptions = DEFAULT_SHED) {
    this.lanes = Object.fromEntries(SHED_CLASSES.map((c) => [c, new Lane(opts.limits[c])])) as Record<ShedClass, Lane>;
  }

  /** A release function when the request may be served, null when it is shed. */
  async admit(cls: ShedClass): Promise<(() => void) | null> {
    const lane = this.lanes[cls];
    if (!(await lane.enter(this.opts.waitMs))) {
      this.shedCounts[cls]++;
      return null;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      lane.leave();
    };
  }

  stats(): Record<ShedClass, { active: number; waiting: number; shed: number }> {
    return Object.fromEntries(SHED_CLASSES.map((c) => [c, { ...this.lanes[c].stats, shed: this.shedCounts[c] }])) as Record<
      ShedClass,
      { active: number; waiting: number; shed: number }
    >;
  }
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Wraps a request listener: admitted requests hold their slot until the response closes. */
export function shedLoad(shedder: LoadShedder | undefined, log: Logger, listener: Listener): Listener {
  if (!shedder) return listener;
  return (req, res) => {
    const cls = classifyRequest(req.method, req.url);
    if (!cls) return listener(req, res);
    // A client that leaves while its request waits must not take the slot it is given
    // later: its 'close' has fired already and would never release it.
    let gone = false;
    const onGone = () => {
      gone = true;
    };
    res.once('close', onGone);
    void shedder.admit(cls).then((release) => {
      res.off('close', onGone);
      if (!release) {
        log.debug({ class: cls }, 'Request shed');
        if (!gone) sendOverloaded(req, res, cls, shedder.opts.retryAfterSeconds ?? 1);
        return;
      }
      if (gone) return release();
      res.once('close', release);
      listener(req, res);
    });
  };
}

const BUSY = 'Userz is busy right now; please try again in a few seconds.';

/** 503 with Retry-After; Slack and Discord get the 200 "try again" message their apps display. */
export function sendOverloaded(req: IncomingMessage, res: ServerResponse, cls: ShedClass, retryAfterSeconds: number): void {
  const path = (req.url ?? '/').split('?')[0]!;
  let status = codeToStatus('overloaded');
  let body: unknown = { error: { code: 'overloaded', message: `The server is overloaded; retry after ${retryAfterSeconds} s` } };
  if (cls === 'chat' && path === '/slack/events') {
    status = 200;
    body = { response_type: 'ephemeral', text: BUSY };
  } else if (cls === 'chat' && path === '/discord/interactions') {
    status = 200;
    body = { type: 4, data: { content: BUSY, flags: 64 } };
  }
  const text = JSON.stringify(body);
  // A small body is drained and the connection kept (reconnecting costs the client and us
  // more than the answer); a large or unsized one is not read: the connection closes.
  const small = !req.headers['transfer-encoding'] && Number(req.headers['content-length'] ?? 0) <= 64 * 1024;
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'retry-after': String(retryAfterSeconds),
  };
  if (!small) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
  if (small) req.resume();
}
