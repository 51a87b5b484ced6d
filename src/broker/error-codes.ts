/**
 * The error codes broker/ raises: a closed set, so a code that is not listed is a type error.
 * The host side of the runner protocol.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const BROKER_ERROR_CODES = ['protocol_duplicate_id'] as const;
export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];
