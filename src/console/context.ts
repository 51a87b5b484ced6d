import type { IncomingMessage } from 'node:http';
import type { Principal, Role } from '../tenant/index.js';

/**
 * The contract between sign-in (console/auth/) and the console's pages. A page asks the
 * resolver who is signed in; it gets the user, the org they are looking at (their
 * membership there as a Principal, the same authorization the `/api/v1` routes use) and
 * the CSRF token every state-changing form carries as `_csrf`.
 */
export interface ConsoleUser {
  id: string;
  email: string;
  name: string;
}

export interface ConsoleMembership {
  orgId: string;
  orgName: string;
  role: Role;
}

export interface ConsoleSession {
  sessionId: string;
  user: ConsoleUser;
  /** Every org the user belongs to (the org switcher). */
  memberships: readonly ConsoleMembership[];
  /** The org being looked at (cookie `userz_org`, checked against memberships; default the first). Null when the user has no org yet. */
  principal: Principal | null;
  /** Put in every form as `<input type="hidden" name="_csrf">`; checkCsrf verifies it. */
  csrfToken: string;
}

export interface ConsoleAuth {
  /** The signed-in user of this request, or null (expired, revoked, absent, unverified). */
  session(req: IncomingMessage): Promise<ConsoleSession | null>;
  /**
   * Throws 403 `csrf_failed` unless the request's Origin (or Referer) is the console's own
   * origin and `token` is this session's CSRF token. Every POST of a console page calls it.
   */
  checkCsrf(req: IncomingMessage, session: ConsoleSession, token: string | undefined): void;
}
