/**
 * Setup's egress for a run (issue 18): the operator's named lists intersected with the
 * repository's `egress.allow`, the proxy and forwarder around setup (sandbox/egress), and
 * every connection attempt written to the run's egress ledger. Setup (checks.ts) calls the
 * SetupEgress it is given; checks and the agent never get one.
 */
import type { Logger } from 'pino';
import { resolveAllowlist, withSetupEgress, type EgressLedgerEntry, type EgressLists, type Sandbox, type SetupEgressOptions } from '../sandbox/index.js';
import { recordEgressConnections, type Db } from '../store/index.js';

export interface SetupEgressRequest {
  orgId: string;
  runId: string;
  /** `.userz.yml` egress.allow: list names, read at the base commit. */
  allow: readonly string[];
}

/** Runs setup (`fn`) with the run's egress path; `fn` gets the environment its commands need (none when nothing is allowed). */
export type SetupEgress = <T>(sandbox: Sandbox, request: SetupEgressRequest, fn: (env: readonly string[]) => Promise<T>) => Promise<T>;

export interface SetupEgressDeps {
  db: Db;
  log: Logger;
  /** The operator's named lists (USERZ_EGRESS_LISTS). */
  lists: EgressLists;
  /** Proxy settings beyond the allowlist: ports, a resolver, loopback for tests. */
  proxy?: Omit<SetupEgressOptions, 'allowHosts' | 'onEntry'>;
}

export function createSetupEgress(deps: SetupEgressDeps): SetupEgress {
  return async <T>(sandbox: Sandbox, request: SetupEgressRequest, fn: (env: readonly string[]) => Promise<T>): Promise<T> => {
    const allowlist = resolveAllowlist(deps.lists, request.allow);
    const log = deps.log.child({ runId: request.runId });
    if (allowlist.refused.length > 0) log.warn({ refused: allowlist.refused }, 'Setup egress names the operator does not offer were ignored');
    const entries: EgressLedgerEntry[] = [];
    try {
      const done = await withSetupEgress(sandbox, { ...deps.proxy, allowHosts: allowlist.hosts, onEntry: (e) => entries.push(e) }, fn);
      return done.result;
    } finally {
      // Written whether setup passed or not: a refused attempt is what the ledger is for.
      if (entries.length > 0) {
        await recordEgressConnections(deps.db, { orgId: request.orgId, runId: request.runId }, entries);
        log.info({ connections: entries.length, refused: entries.filter((e) => !e.allowed).length }, 'Setup egress ledger recorded');
      }
    }
  };
}
