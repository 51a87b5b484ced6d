/**
 * Every error code Userz raises, one closed list per module (each module's error-codes.ts).
 * UserzError takes only these codes; src/http/status.ts gives each its HTTP status and the
 * run state machine (src/pipeline/states.ts) turns the ones that end a run into run states.
 */
import { API_ERROR_CODES } from './api/error-codes.js';
import { BILLING_ERROR_CODES } from './billing/error-codes.js';
import { BROKER_ERROR_CODES } from './broker/error-codes.js';
import { CLI_ERROR_CODES } from './cli/error-codes.js';
import { CONFIG_ERROR_CODES } from './config/error-codes.js';
import { CONSOLE_ERROR_CODES } from './console/error-codes.js';
import { FORGE_ERROR_CODES } from './forge/error-codes.js';
import { GUARDRAIL_ERROR_CODES } from './guardrail/error-codes.js';
import { HTTP_ERROR_CODES } from './http/error-codes.js';
import { INTAKE_ERROR_CODES } from './intake/error-codes.js';
import { MODEL_ERROR_CODES } from './model/error-codes.js';
import { OPS_ERROR_CODES } from './ops/error-codes.js';
import { PIPELINE_ERROR_CODES } from './pipeline/error-codes.js';
import { RUNNER_ERROR_CODES } from './runner/error-codes.js';
import { SANDBOX_ERROR_CODES } from './sandbox/error-codes.js';
import { SECURITY_ERROR_CODES } from './security/error-codes.js';
import { STORE_ERROR_CODES } from './store/error-codes.js';
import { TENANT_ERROR_CODES } from './tenant/error-codes.js';
import { TRIAGE_ERROR_CODES } from './triage/error-codes.js';
import { WEBHOOKS_ERROR_CODES } from './webhooks/error-codes.js';

/** Each module's codes, by module (a code belongs to exactly one; test/errors/codes.test.ts checks). */
export const ERROR_CODES_BY_MODULE = {
  api: API_ERROR_CODES,
  billing: BILLING_ERROR_CODES,
  broker: BROKER_ERROR_CODES,
  cli: CLI_ERROR_CODES,
  config: CONFIG_ERROR_CODES,
  console: CONSOLE_ERROR_CODES,
  forge: FORGE_ERROR_CODES,
  guardrail: GUARDRAIL_ERROR_CODES,
  http: HTTP_ERROR_CODES,
  intake: INTAKE_ERROR_CODES,
  model: MODEL_ERROR_CODES,
  ops: OPS_ERROR_CODES,
  pipeline: PIPELINE_ERROR_CODES,
  runner: RUNNER_ERROR_CODES,
  sandbox: SANDBOX_ERROR_CODES,
  security: SECURITY_ERROR_CODES,
  store: STORE_ERROR_CODES,
  tenant: TENANT_ERROR_CODES,
  triage: TRIAGE_ERROR_CODES,
  webhooks: WEBHOOKS_ERROR_CODES,
} as const;

export type UserzErrorCode = (typeof ERROR_CODES_BY_MODULE)[keyof typeof ERROR_CODES_BY_MODULE][number];

export const ERROR_CODES: readonly UserzErrorCode[] = Object.values(ERROR_CODES_BY_MODULE).flat();

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** For codes that arrive as text (a server's JSON answer read by the CLI). */
export const isUserzErrorCode = (code: unknown): code is UserzErrorCode => typeof code === 'string' && KNOWN.has(code);
