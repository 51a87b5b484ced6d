/**
 * The error codes http/ raises: a closed set, so a code that is not listed is a type error.
 * The request edge: malformed requests, routing and overload. Statuses for every code are in ./status.ts.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const HTTP_ERROR_CODES = [
  'bad_path_encoding',
  'body_too_large',
  'malformed_json',
  'unsupported_media_type',
  'json_too_deep',
  'invalid_utf8',
  'invalid_payload',
  'invalid_admin_token',
  'invalid_metrics_token',
  'not_found',
  'method_not_allowed',
  'overloaded',
  'internal_error',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];
