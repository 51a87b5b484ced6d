import { UserzError } from '../errors.js';
import type { BranchCommitInput, DeliveryInput, ForgeSession } from './interface.js';

/**
 * The part every forge session shares: after close() each call is refused with
 * `forge_session_closed`, and close() is idempotent (its release, e.g. revoking GitHub's
 * run token, runs once). A release must not throw (ForgeSession.close never does).
 */
export function guardSession(ops: Omit<ForgeSession, 'close'>, release: () => Promise<void> = async () => undefined): ForgeSession {
  let closed = false;
  const open = (): void => {
    if (closed) throw new UserzError('forge_session_closed', 'The forge session is closed');
  };
  return {
    async fetchArchive(at?: { commit: string }) {
      open();
      return ops.fetchArchive(at);
    },
    async readFile(path: string, ref: string) {
      open();
      return ops.readFile(path, ref);
    },
    async deliverDraft(input: DeliveryInput) {
      open();
      return ops.deliverDraft(input);
    },
    async pushCommit(input: BranchCommitInput) {
      open();
      return ops.pushCommit(input);
    },
    async branchHead(branch: string) {
      open();
      return ops.branchHead(branch);
    },
    async close() {
      if (closed) return;
      closed = true;
      await release();
    },
  };
}
