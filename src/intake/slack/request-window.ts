import { UserzError } from '../../errors.js';

// Slack: a request is fresh when its X-Slack-Request-Timestamp is within 300 s of now.
const WINDOW_SECONDS = 300;

/**
 * Refuses a Slack request dated more than 300 s before or after now. Bolt's own check
 * refuses old timestamps only, so a request dated in the future would stay valid past
 * the replay guard's memory; this runs before Bolt sees the request.
 */
export function rejectOutsideSlackWindow(header: string | string[] | undefined, nowMs = Date.now()): void {
  const ts = typeof header === 'string' && /^\d{1,12}$/.test(header) ? Number(header) : NaN;
  if (!(Math.abs(nowMs / 1000 - ts) <= WINDOW_SECONDS)) {
    throw new UserzError('stale_request', 'Request timestamp is missing or outside the 300 s window');
  }
}
