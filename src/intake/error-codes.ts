/**
 * The error codes intake/ raises: a closed set, so a code that is not listed is a type error.
 * Intake: the widget, Slack and Discord requests and the reporter notifications.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const INTAKE_ERROR_CODES = [
  'invalid_report',
  'text_too_long',
  'too_many_attachments',
  'too_many_console_lines',
  'too_many_reporter_fields',
  'too_many_network_entries',
  'too_many_breadcrumbs',
  'too_many_context_fields',
  'report_in_flight',
  'invalid_request',
  'invalid_app_name',
  'invalid_origin',
  'origin_not_allowed',
  'missing_key',
  'unknown_key',
  'invalid_user_token',
  'user_token_lifetime_too_long',
  'chat_link_needs_proof',
  'discord_not_configured',
  'slack_not_configured',
  'slack_oauth_required',
  'slack_oauth_failed',
  'invalid_oauth_state',
  'invalid_install_link',
  'invalid_outcome',
  'notify_failed',
] as const;
export type IntakeErrorCode = (typeof INTAKE_ERROR_CODES)[number];
