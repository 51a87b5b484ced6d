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
    // the served p99 reached seconds in the overload bench). Ingest writes through a pool of
    // 10 connections: 16 keep it busy, while at 32 half of the admitted reports queued for a
    // connection and the served p99 at 3x overload exceeded 1 s on the loaded 2-core machine.
    ingest: { inFlight: 16, queue: 32 },
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

interface Waiter {
  admit(admitted: boolean): void;
  since: number;
}

class Lane {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly limits: ShedLimits,
    private readonly waitMs: number,
    private readonly now: () => number,
  ) {}

  /** True with a slot held (call leave once), false when shed at once, null when the caller must wait. */
  tryEnter(): boolean | null {
    if (this.limits.inFlight <= 0 || this.active < this.limits.inFlight) {
      this.active++;
      return true;
    }
    return this.waiting.length >= this.limits.queue ? false : null;
  }

  /** Resolves true with a slot held (call leave once), false when shed. */
  enter(): Promise<boolean> {
    const now = this.tryEnter();
    if (now !== null) return Promise.resolve(now);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      }, this.waitMs);
      const waiter: Waiter = {
        since: this.now(),
        admit: (admitted: boolean) => {
          clearTimeout(timer);
          resolve(admitted);
        },
      };
      this.waiting.push(waiter);
    });
  }

  leave(): void {
    // The slot passes straight to a waiter (active stays the same): the first one, unless
    // the first has waited over half the bound (overload: the queue does not drain). Then
    // the newest gets it, so the requests that are served stay fast and the old ones time
    // out to 503, instead of every served request having waited nearly the whole bound
    // (adaptive LIFO; with FIFO the served p99 under 3x overload was waitMs plus service).
    const oldest = this.waiting[0];
    const next = oldest && this.now() - oldest.since > this.waitMs / 2 ? this.waiting.pop() : this.waiting.shift();
    if (next) next.admit(true);
    else this.active--;
  }

  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}

export class LoadShedder {
  private readonly lanes: Record<ShedClass, Lane>;
  private readonly shedCounts: Record<ShedClass, number> = { ingest: 0, chat: 0, webhooks: 0, api: 0, console: 0 };

  /** `now`: the clock waits are measured with (milliseconds; tests pass their own). */
  constructor(
    readonly opts: ShedOptions = DEFAULT_SHED,
    now: () => number = () => performance.now(),
  ) {
    this.lanes = Object.fromEntries(SHED_CLASSES.map((c) => [c, new Lane(opts.limits[c], opts.waitMs, now)])) as Record<ShedClass, Lane>;
  }

  /**
   * Without waiting: a release function when a slot is free, null when the request is shed
   * (the queue is full), undefined when it may wait (then call admit).
   */
  admitNow(cls: ShedClass): (() => void) | null | undefined {
    const now = this.lanes[cls].tryEnter();
    if (now === null) return undefined;
    if (!now) {
      this.shedCounts[cls]++;
      return null;
    }
    return this.releaser(cls);
  }

  /** A release function when the request may be served, null when it is shed. */
  async admit(cls: ShedClass): Promise<(() => void) | null> {
    if (!(await this.lanes[cls].enter())) {
      this.shedCounts[cls]++;
      return null;
    }
    return this.releaser(cls);
  }

  private releaser(cls: ShedClass): () => void {
    const lane = this.lanes[cls];
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
    // Decided in this turn when it can be (a free slot, or a full queue): under overload most
    // requests are shed here, and each costs the event loop as little as possible.
    const now = shedder.admitNow(cls);
    if (now === null) {
      log.debug({ class: cls }, 'Request shed');
      return sendOverloaded(req, res, cls, shedder.opts.retryAfterSeconds ?? 1);
    }
    if (now) {
      res.once('close', now);
      return listener(req, res);
    }
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

const answers = new Map<string, { status: number; text: string; length: number }>();

/** The shed answer's status and body, built once per kind (under overload it is written thousands of times a second). */
function overloadedAnswer(kind: 'error' | 'slack' | 'discord', retryAfterSeconds: number): { status: number; text: string; length: number } {
  const key = `${kind}:${retryAfterSeconds}`;
  let answer = answers.get(key);
  if (!answer) {
    const [status, body] =
      kind === 'slack'
        ? [200, { response_type: 'ephemeral', text: BUSY }]
        : kind === 'discord'
          ? [200, { type: 4, data: { content: BUSY, flags: 64 } }]
          : [codeToStatus('overloaded'), { error: { code: 'overloaded', message: `The server is overloaded; retry after ${retryAfterSeconds} s` } }];
    const text = JSON.stringify(body);
    answer = { status, text, length: Buffer.byteLength(text) };
    answers.set(key, answer);
  }
  return answer;
}

const SHED = new WeakSet<ServerResponse>();

/** True when this response is a shed answer (its code is `overloaded`, also when it is Slack's or Discord's 200). */
export function wasShed(res: ServerResponse): boolean {
  return SHED.has(res);
}

/** 503 with Retry-After; Slack and Discord get the 200 "try again" message their apps display. */
export function sendOverloaded(req: IncomingMessage, res: ServerResponse, cls: ShedClass, retryAfterSeconds: number): void {
  SHED.add(res);
  const path = (req.url ?? '/').split('?')[0]!;
  const kind = cls !== 'chat' ? 'error' : path === '/slack/events' ? 'slack' : path === '/discord/interactions' ? 'discord' : 'error';
  const { status, text, length } = overloadedAnswer(kind, retryAfterSeconds);
  // A small body is drained and the connection kept (reconnecting costs the client and us
  // more than the answer); a large or unsized one is not read: the connection closes.
  const small = !req.headers['transfer-encoding'] && Number(req.headers['content-length'] ?? 0) <= 64 * 1024;
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
    'retry-after': String(retryAfterSeconds),
  };
  if (!small) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
  if (small) req.resume();
}
