/**
 * The one place an error code becomes an HTTP status (Unkey's codeToStatus). Modules raise
 * codes; only this table says what a request edge answers for each. Every code of
 * src/error-codes.ts has exactly one entry: a missing or unknown code is a type error.
 *
 * Codes raised only inside jobs, the sandbox, the runner or at boot (sandbox, guardrail,
 * runner, broker, model, triage, config, cli and most of pipeline) never reach a request;
 * they are 500 here, the answer for a bug that let one escape to a request edge.
 */
import type { UserzErrorCode } from '../error-codes.js';

const INTERNAL = 500;

export const CODE_TO_STATUS = {
  // http/
  bad_path_encoding: 400,
  body_too_large: 413,
  malformed_json: 400,
  unsupported_media_type: 415,
  json_too_deep: 400,
  invalid_utf8: 400,
  invalid_payload: 400,
  invalid_admin_token: 401,
  invalid_metrics_token: 401,
  not_found: 404,
  method_not_allowed: 405,
  overloaded: 503,
  internal_error: 500,

  // tenant/
  insufficient_scope: 403,

  // api/
  api_key_not_found: 404,
  batch_not_found: 404,
  audit_event_not_found: 404,

  // console/
  not_signed_in: 401,
  csrf_failed: 403,
  member_not_found: 404,
  last_owner: 409,
  invite_not_found: 404,
  invite_used: 410,
  invite_expired: 410,
  invite_wrong_email: 403,

  // billing/
  budget_exhausted: 402,
  plan_unknown: 400,
  model_key_rejected: 400,
  model_unknown: 400,
  model_endpoint_unreachable: 502,
  model_check_failed: 502,
  model_key_required: 400,
  model_settings_invalid: 400,
  caps_invalid: 400,

  // webhooks/
  webhook_endpoint_not_found: 404,
  webhook_url_refused: 400,

  // security/
  invalid_api_key: 401,
  api_key_verification_busy: 503,
  rate_limited: 429,
  bad_signature: 401,
  stale_request: 401,
  master_key_missing: 500,
  org_key_missing: 500,
  vault_tampered: 500,
  secret_not_found: 404,

  // config/, cli/ (boot and the command line)
  config_invalid: INTERNAL,
  gitlab_token_missing: INTERNAL,
  data_dir_busy: INTERNAL,
  server_unreachable: INTERNAL,
  server_error: INTERNAL,

  // ops/
  already_initialized: 409,
  unknown_operation: 404,
  invalid_input: 400,
  repo_in_other_org: 409,

  // store/
  org_not_found: 404,
  org_ambiguous: 400,
  invalid_org_name: 400,
  app_not_found: 404,
  repo_not_found: 404,
  installation_already_linked: 409,
  link_taken: 409,
  db_bad_schema: 500,
  db_unreachable: 500,
  blob_bad_key: 500,
  blob_store_failed: 500,

  // intake/
  invalid_report: 400,
  text_too_long: 400,
  too_many_attachments: 400,
  too_many_console_lines: 400,
  too_many_reporter_fields: 400,
  too_many_network_entries: 400,
  too_many_breadcrumbs: 400,
  too_many_context_fields: 400,
  report_in_flight: 409,
  invalid_request: 400,
  invalid_app_name: 400,
  invalid_origin: 400,
  origin_not_allowed: 403,
  missing_key: 401,
  unknown_key: 401,
  invalid_user_token: 401,
  user_token_lifetime_too_long: 401,
  chat_link_needs_proof: 400,
  discord_not_configured: 409,
  slack_not_configured: 409,
  slack_oauth_required: 409,
  slack_oauth_failed: 502,
  invalid_oauth_state: 400,
  invalid_install_link: 400,
  invalid_outcome: 500,
  notify_failed: 500,

  // forge/: what the forge answered, webhooks, installation links, delivery
  forge_rate_limited: 503,
  forge_unavailable: 502,
  forge_unauthorized: 502,
  forge_forbidden: 502,
  forge_not_found: 502,
  forge_conflict: 409,
  forge_rejected: 502,
  forge_bad_answer: 502,
  forge_bad_repo: 500,
  forge_empty_change: 422,
  forge_file_too_large: 422,
  forge_unsupported_change: 422,
  forge_invalid_run_id: 500,
  forge_not_configured: 500,
  forge_session_closed: 500,
  forge_token_too_broad: 502,
  missing_webhook_headers: 400,
  missing_delivery_id: 400,
  webhook_secret_missing: 500,
  github_authorization_failed: 400,
  github_install_links_not_configured: 409,
  github_user_authorization_missing: 400,
  installation_not_administered: 403,
  installation_pending_approval: 409,
  invalid_install_state: 400,
  invalid_installation_id: 400,
  invalid_setup_action: 400,
  gitlab_token_invalid: 400,
  gitlab_token_scope: 400,
  gitlab_project_not_found: 400,
  gitlab_access_too_low: 400,
  gitlab_project_empty: 400,
  repo_not_gitlab: 409,

  // pipeline/: the report and review routes answer the first four; the rest end runs
  report_not_found: 404,
  report_not_held: 409,
  run_not_found: 404,
  report_unreadable: INTERNAL,
  bad_transition: INTERNAL,
  batch_empty: INTERNAL,
  changeset_missing: INTERNAL,
  no_model: INTERNAL,
  no_repo_linked: INTERNAL,
  repo_unavailable: INTERNAL,
  sandbox_disabled: INTERNAL,
  tenant_mismatch: INTERNAL,

  // sandbox/
  sandbox_unavailable: INTERNAL,
  sandbox_build_failed: INTERNAL,
  sandbox_already_loaded: INTERNAL,
  sandbox_no_repository: INTERNAL,
  sandbox_load_failed: INTERNAL,
  sandbox_destroyed: INTERNAL,
  sandbox_lost: INTERNAL,
  sandbox_timeout: INTERNAL,
  sandbox_exec_failed: INTERNAL,
  sandbox_output_too_large: INTERNAL,
  sandbox_processes_survived: INTERNAL,
  sandbox_read_failed: INTERNAL,
  changeset_too_large: INTERNAL,
  invalid_argument: INTERNAL,

  // guardrail/, triage/
  guardrail_rules_invalid: INTERNAL,
  guardrail_limits_invalid: INTERNAL,
  policy_invalid: INTERNAL,
  injection_rules_invalid: INTERNAL,
  invalid_nonce: INTERNAL,

  // runner/, broker/
  protocol_host_closed: INTERNAL,
  protocol_line_too_long: INTERNAL,
  protocol_malformed: INTERNAL,
  protocol_unexpected: INTERNAL,
  protocol_version_mismatch: INTERNAL,
  protocol_duplicate_id: INTERNAL,
  tool_bad_pattern: INTERNAL,
  tool_content_too_large: INTERNAL,
  tool_edit_ambiguous: INTERNAL,
  tool_edit_no_match: INTERNAL,
  tool_git_refused: INTERNAL,
  tool_not_a_directory: INTERNAL,
  tool_not_a_file: INTERNAL,
  tool_not_found: INTERNAL,
  tool_path_changed: INTERNAL,
  tool_path_refused: INTERNAL,
  tool_search_failed: INTERNAL,
  tool_search_timeout: INTERNAL,

  // model/
  model_aborted: INTERNAL,
  model_auth_failed: INTERNAL,
  model_bad_response: INTERNAL,
  model_provider_unknown: INTERNAL,
  model_rate_limited: INTERNAL,
  model_request_rejected: INTERNAL,
  model_script_exhausted: INTERNAL,
  model_timeout: INTERNAL,
  model_unavailable: INTERNAL,
  model_failed: INTERNAL,
} as const satisfies Record<UserzErrorCode, number>;

/** The HTTP status a request edge answers for `code`. */
export function codeToStatus(code: UserzErrorCode): number {
  return CODE_TO_STATUS[code];
}
