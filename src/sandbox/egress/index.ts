/**
 * Setup's egress: the allowlist policy, the CONNECT proxy on the sandbox's egress slot and
 * withSetupEgress, which gives setup (and only setup) that one path out.
 */
export { DEFAULT_EGRESS_LIST_NAMES, resolveAllowlist, type EgressAllowlist, type EgressLists } from './policy.js';
export { type EgressLedgerEntry, type EgressReason } from './proxy.js';
export { withSetupEgress, type SetupEgressOptions, type SetupEgressResult } from './setup-egress.js';
