/**
 * Setup's egress: the allowlist policy, the CONNECT proxy on the sandbox's egress slot and
 * withSetupEgress, which gives setup (and only setup) that one path out.
 */
export { resolveAllowlist, type EgressLists } from './policy.js';
export { type EgressLedgerEntry } from './proxy.js';
export { withSetupEgress, type SetupEgressOptions } from './setup-egress.js';
