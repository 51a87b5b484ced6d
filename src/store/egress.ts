import type { Queryable } from './db/interface.js';
import { randomUUID } from 'node:crypto';

/**
 * The egress ledger: every connection setup's proxy was asked for, let through or not
 * (src/sandbox/egress/), kept on the run and shown with it.
 */
export interface EgressConnection {
  host: string;
  port: number;
  address: string | null;
  allowed: boolean;
  reason: string;
  bytesUp: number;
  bytesDown: number;
  startedAt: Date;
  endedAt: Date;
}

/** More is summarised by the count only: a setup that opened this many tunnels has said enough. */
const LEDGER_CAP = 2000;

export async function recordEgressConnections(db: Queryable, run: { orgId: string; runId: string }, entries: readonly EgressConnection[]): Promise<void> {
  for (const e of entries.slice(0, LEDGER_CAP)) {
    await db.query(
      `INSERT INTO egress_connections (id, org_id, run_id, host, port, address, allowed, reason, bytes_up, bytes_down, started_at, ended_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [randomUUID(), run.orgId, run.runId, e.host.slice(0, 255), e.port, e.address, e.allowed, e.reason, e.bytesUp, e.bytesDown, e.startedAt, e.endedAt],
    );
  }
}

type Row = {
  host: string;
  port: number;
  address: string | null;
  allowed: boolean;
  reason: string;
  bytes_up: string | number;
  bytes_down: string | number;
  started_at: Date;
  ended_at: Date;
};

/** A run's ledger in the order the connections were made (at most LEDGER_CAP rows), scoped to its org. */
export async function listEgressConnections(db: Queryable, orgId: string, runId: string): Promise<EgressConnection[]> {
  const rows = await db.query<Row>(
    `SELECT host, port, address, allowed, reason, bytes_up, bytes_down, started_at, ended_at
       FROM egress_connections WHERE org_id = $1 AND run_id = $2 ORDER BY started_at, id LIMIT ${LEDGER_CAP}`,
    [orgId, runId],
  );
  return rows.map((r) => ({
    host: r.host,
    port: r.port,
    address: r.address,
    allowed: r.allowed,
    reason: r.reason,
    bytesUp: Number(r.bytes_up),
    bytesDown: Number(r.bytes_down),
    startedAt: r.started_at,
    endedAt: r.ended_at,
  }));
}
