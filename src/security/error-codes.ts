/**
 * The error codes security/ raises: a closed set, so a code that is not listed is a type error.
 * Credentials, signatures, replay windows, rate limits and the vault.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const SECURITY_ERROR_CODES = [
  'invalid_api_key',
  'api_key_verification_busy',
  'rate_limited',
  'bad_signature',
  'stale_request',
  'master_key_missing',
  'org_key_missing',
  'vault_tampered',
  'secret_not_found',
] as const;
export type SecurityErrorCode = (typeof SECURITY_ERROR_CODES)[number];
