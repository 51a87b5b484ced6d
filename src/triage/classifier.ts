import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { errorMessage, isUserzError } from '../errors.js';
import type { ModelClient, ModelRequest } from '../model/index.js';
import { CLASSIFIER_INPUT_BYTES, wrapReportWithinBudget } from './input-budget.js';
import type { ReportContent } from './report-content.js';
import { createNonce, untrustedDataInstructions } from './wrap.js';

export const TRIAGE_LABELS = ['benign', 'spam', 'malicious_injection', 'abuse', 'off_topic'] as const;
export const TriageLabel = z.enum(TRIAGE_LABELS);
export type TriageLabel = z.infer<typeof TriageLabel>;

export const Classification = z
  .object({
    label: TriageLabel,
    confidence: z.number().min(0).max(1),
    reason: z.string().min(1).max(500),
  })
  .strict();
export type Classification = z.infer<typeof Classification>;

/**
 * The answer schema sent as `responseSchema`, kept to the subset every provider's strict
 * structured output accepts (all fields required, no extra properties, no numeric or
 * length constraints); the ranges are checked locally by `Classification`.
 */
export const CLASSIFICATION_RESPONSE_SCHEMA = {
  name: 'triage_classification',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['label', 'confidence', 'reason'],
    properties: {
      label: { type: 'string', enum: [...TRIAGE_LABELS] },
      confidence: { type: 'number', description: 'From 0 (a guess) to 1 (certain).' },
      reason: { type: 'string', description: 'One short sentence in your own words.' },
    },
  },
} as const;

export type ClassifierFailureCause = 'model_error' | 'timeout' | 'refusal' | 'truncated' | 'invalid_json' | 'schema_invalid';

/** Fails closed: anything but a schema-valid answer is `needs_review` with its cause, never a classification. */
export type ClassifierResult =
  { status: 'classified'; classification: Classification; model: string } | { status: 'needs_review'; cause: ClassifierFailureCause; detail: string };

export const DEFAULT_CLASSIFIER_PROMPT_URL = new URL('../../rules/classifier.md', import.meta.url);
export const DEFAULT_CLASSIFIER_TIMEOUT_MS = 20_000;
const MAX_OUTPUT_TOKENS = 300;
const MAX_DETAIL_CHARS = 200;

let defaultPrompt: string | undefined;

/** rules/classifier.md, read once per process. */
export function defaultClassifierPrompt(): string {
  defaultPrompt ??= readFileSync(DEFAULT_CLASSIFIER_PROMPT_URL, 'utf8').trim();
  return defaultPrompt;
}

export interface ClassifyOptions {
  client: ModelClient;
  timeoutMs?: number;
  /** Wrapper nonce; fresh from the CSPRNG unless given (tests, `triage explain`). */
  nonce?: string;
  /** Classifier instructions; rules/classifier.md by default. */
  prompt?: string;
}

/**
 * The classifier request: its own system prompt and a single user message holding only the
 * wrapped report, at most CLASSIFIER_INPUT_BYTES (console lines that match an injection
 * pattern are kept first when the report has to be cut). Built fresh for every call and
 * sharing nothing with the agent's conversation; no tools are offered, so the only thing
 * the model can do is answer.
 */
export function buildClassifierRequest(content: ReportContent, opts: { nonce?: string; prompt?: string } = {}): ModelRequest {
  const nonce = opts.nonce ?? createNonce();
  return {
    system: `${opts.prompt ?? defaultClassifierPrompt()}\n\n${untrustedDataInstructions(nonce)}`,
    messages: [{ role: 'user', content: wrapReportWithinBudget(content, { nonce, maxBytes: CLASSIFIER_INPUT_BYTES }) }],
    maxOutputTokens: MAX_OUTPUT_TOKENS,
    responseSchema: { name: CLASSIFICATION_RESPONSE_SCHEMA.name, schema: structuredClone(CLASSIFICATION_RESPONSE_SCHEMA.schema) as Record<string, unknown> },
  };
}

function needsReview(cause: ClassifierFailureCause, detail: string): ClassifierResult {
  return { status: 'needs_review', cause, detail: detail.slice(0, MAX_DETAIL_CHARS) };
}

/** Some providers fence JSON even in structured mode; accept exactly one fenced block, nothing looser. */
function unfence(content: string): string {
  const trimmed = content.trim();
  const fenced = /^```(?:json)?\n([\s\S]*)\n```$/.exec(trimmed);
  return fenced ? fenced[1]! : trimmed;
}

export function parseClassification(content: string, model: string): ClassifierResult {
  let json: unknown;
  try {
    json = JSON.parse(unfence(content));
  } catch {
    return needsReview('invalid_json', 'Classifier answer is not JSON');
  }
  const parsed = Classification.safeParse(json);
  if (!parsed.success) {
    return needsReview('schema_invalid', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; '));
  }
  return { status: 'classified', classification: parsed.data, model };
}

const TIMED_OUT = Symbol('timed out');

/** Classifies one report with a separate model call. Never throws for model trouble: it answers `needs_review`. */
export async function classifyReport(content: ReportContent, opts: ClassifyOptions): Promise<ClassifierResult> {
  const request = buildClassifierRequest(content, opts);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(TIMED_OUT);
    }, opts.timeoutMs ?? DEFAULT_CLASSIFIER_TIMEOUT_MS);
  });
  const call = opts.client.complete(request, { signal: controller.signal });
  // A call that loses the race may still reject later; that outcome is already decided.
  call.catch(() => undefined);
  try {
    const response = await Promise.race([call, timedOut]);
    if (response === TIMED_OUT) return needsReview('timeout', 'Classifier did not answer in time');
    if (response.stopReason === 'refusal') return needsReview('refusal', 'Classifier model refused');
    if (response.stopReason === 'max_tokens') return needsReview('truncated', 'Classifier answer was cut off');
    if (response.toolCalls.length > 0) return needsReview('schema_invalid', 'Classifier answered with a tool call');
    return parseClassification(response.content, opts.client.model);
  } catch (e) {
    if (controller.signal.aborted) return needsReview('timeout', 'Classifier did not answer in time');
    return needsReview('model_error', isUserzError(e) ? e.code : errorMessage(e));
  } finally {
    clearTimeout(timer);
  }
}
