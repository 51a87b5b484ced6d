/**
 * The error codes forge/ raises: a closed set, so a code that is not listed is a type error.
 * GitHub and GitLab: their answers, webhooks, installation links and delivery.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const FORGE_ERROR_CODES = [
  'forge_rate_limited',
  'forge_unavailable',
  'forge_unauthorized',
  'forge_forbidden',
  'forge_not_found',
  'forge_conflict',
  'forge_rejected',
  'forge_bad_answer',
  'forge_bad_repo',
  'forge_empty_change',
  'forge_file_too_large',
  'forge_unsupported_change',
  'forge_invalid_run_id',
  'forge_not_configured',
  'forge_session_closed',
  'forge_token_too_broad',
  'missing_webhook_headers',
  'missing_delivery_id',
  'webhook_secret_missing',
  'github_authorization_failed',
  'github_install_links_not_configured',
  'github_user_authorization_missing',
  'installation_not_administered',
  'installation_pending_approval',
  'repo_not_gitlab',
  'invalid_install_state',
  'invalid_installation_id',
  'invalid_setup_action',
  'gitlab_token_invalid',
  'gitlab_token_scope',
  'gitlab_project_not_found',
  'gitlab_access_too_low',
  'gitlab_project_empty',
] as const;
export type ForgeErrorCode = (typeof FORGE_ERROR_CODES)[number];
