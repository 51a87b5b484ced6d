import type { Queryable } from './db/interface.js';

/**
 * The SQL on run_checks (016_checks.sql): one row per run with what the repository's setup
 * and check commands said and whether a reproducing test failed before and passed after.
 * Output tails are the commands' own output (bounded by the run stage), shown to members only.
 */
export const CHECKS_STATUSES = ['passed', 'failed', 'not_configured', 'errored'] as const;
export type ChecksStatus = (typeof CHECKS_STATUSES)[number];

export interface CommandResult {
  command: string;
  /** null: the command did not finish (timed out, or the sandbox failed under it). */
  exitCode: number | null;
  timedOut: boolean;
  outputTail: string;
  durationMs: number;
}

export interface Reproduction {
  testPath: string;
  before: CommandResult[];
  after: CommandResult[];
  /** Why the evidence is missing or incomplete, in Userz's words. */
  note?: string;
}

export interface RunChecks {
  runId: string;
  status: ChecksStatus;
  requirePassing: boolean;
  setup: CommandResult[];
  commands: CommandResult[];
  agentRequests: number;
  reproduced: boolean;
  reproduction: Reproduction | null;
  setupMs: number;
  checksMs: number;
}

type Row = {
  run_id: string;
  status: ChecksStatus;
  require_passing: boolean;
  setup: CommandResult[];
  commands: CommandResult[];
  agent_requests: number;
  reproduced: boolean;
  reproduction: Reproduction | null;
  setup_ms: number;
  checks_ms: number;
};

/** Written once per agent phase; a repeated phase (a worker died mid-run) replaces it. */
export async function saveRunChecks(db: Queryable, c: RunChecks): Promise<void> {
  await db.query(
    `INSERT INTO run_checks (run_id, status, require_passing, setup, commands, agent_requests, reproduced, reproduction, setup_ms, checks_ms)
     VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8::jsonb, $9, $10)
     ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, require_passing = EXCLUDED.require_passing, setup = EXCLUDED.setup,
       commands = EXCLUDED.commands, agent_requests = EXCLUDED.agent_requests, reproduced = EXCLUDED.reproduced,
       reproduction = EXCLUDED.reproduction, setup_ms = EXCLUDED.setup_ms, checks_ms = EXCLUDED.checks_ms, updated_at = now()`,
    [
      c.runId,
      c.status,
      c.requirePassing,
      JSON.stringify(c.setup),
      JSON.stringify(c.commands),
      c.agentRequests,
      c.reproduced,
      c.reproduction === null ? null : JSON.stringify(c.reproduction),
      Math.round(c.setupMs),
      Math.round(c.checksMs),
    ],
  );
}

export async function getRunChecks(db: Queryable, runId: string): Promise<RunChecks | null> {
  const [r] = await db.query<Row>('SELECT * FROM run_checks WHERE run_id = $1', [runId]);
  if (!r) return null;
  return {
    runId: r.run_id,
    status: r.status,
    requirePassing: r.require_passing,
    setup: r.setup,
    commands: r.commands,
    agentRequests: r.agent_requests,
    reproduced: r.reproduced,
    reproduction: r.reproduction,
    setupMs: r.setup_ms,
    checksMs: r.checks_ms,
  };
}
