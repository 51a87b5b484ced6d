/**
 * The error codes store/ raises: a closed set, so a code that is not listed is a type error.
 * Storage: lookups that found nothing, uniqueness, the database itself.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const STORE_ERROR_CODES = [
  'org_not_found',
  'org_ambiguous',
  'invalid_org_name',
  'app_not_found',
  'repo_not_found',
  'installation_already_linked',
  'link_taken',
  'db_bad_schema',
  'db_unreachable',
  'blob_bad_key',
  'blob_store_failed',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];
