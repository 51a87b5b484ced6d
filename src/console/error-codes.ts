/**
 * The error codes console/ raises (sign-in, sessions, members, invites, pages): a closed set.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const CONSOLE_ERROR_CODES = [
  'not_signed_in',
  'csrf_failed',
  'member_not_found',
  'last_owner',
  'invite_not_found',
  'invite_used',
  'invite_expired',
  'invite_wrong_email',
] as const;
export type ConsoleErrorCode = (typeof CONSOLE_ERROR_CODES)[number];
