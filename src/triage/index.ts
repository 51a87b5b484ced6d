/**
 * Triage: decides what happens to a stored report before any agent sees it.
 * prefilter (soft pattern signals) → classifier (separate model call, fails closed) →
 * policy (run | needs_review | reject); wrap builds the only form in which report text
 * reaches a model; batch groups similar reports of one App.
 */
export { ReportContent, ConsoleLine, ConsoleLevel, PageInfo, ReporterInfo, NetworkEntry, Breadcrumb, EnvironmentInfo } from './report-content.js';
export { normalizeForMatching, normalizeWithOrigin, type NormalizedText } from './normalize.js';
export { parseInjectionRules, defaultInjectionRules, DEFAULT_INJECTION_RULES_URL, type InjectionRules, type InjectionPattern } from './injection-rules.js';
export { prefilterReport, scannableText, signalledConsoleLines, type Signal, type PrefilterResult } from './prefilter.js';
export {
  classifyReport,
  buildClassifierRequest,
  parseClassification,
  defaultClassifierPrompt,
  Classification,
  TriageLabel,
  TRIAGE_LABELS,
  CLASSIFICATION_RESPONSE_SCHEMA,
  DEFAULT_CLASSIFIER_TIMEOUT_MS,
  type ClassifierResult,
  type ClassifierFailureCause,
  type ClassifyOptions,
} from './classifier.js';
export { wrapReport, untrustedDataInstructions, createNonce, removeTagNameVariants, openingTag, closingTag, WRAPPER_TAG, type WrapperExtras } from './wrap.js';
export {
  CONSOLE_MESSAGE_BYTES,
  CONSOLE_TS_BYTES,
  truncateUtf8,
  capConsoleLine,
  capConsoleMessages,
  capReportFields,
  PAGE_URL_BYTES,
  USER_AGENT_BYTES,
  REPORTER_VALUE_BYTES,
} from './report-caps.js';
export { wrapReportWithinBudget, CLASSIFIER_INPUT_BYTES, AGENT_REPORT_BYTES, type BudgetOptions } from './input-budget.js';
export { buildAgentPrompt, AGENT_SYSTEM, type AgentPrompt } from './agent-prompt.js';
export {
  fingerprint,
  similarity,
  findBatch,
  summarizeBatch,
  summaryTextAfterJoin,
  sanitizeExcerpt,
  EXCERPT_WITHHELD,
  MAX_EXCERPT_CHARS,
  normalizeErrorLine,
  DEFAULT_BATCH_WINDOW_MS,
  DEFAULT_MIN_SIMILARITY,
  type Fingerprint,
  type OpenBatch,
  type BatchCandidate,
  type BatchMember,
  type BatchSummary,
  type FindBatchOptions,
} from './batch.js';
export { decide, CONFIDENT_INJECTION, type TriageDecision, type TriageAction, type DecideInput } from './policy.js';
export {
  explainReport,
  explainBatch,
  runTriageExplain,
  type ReportExplanation,
  type BatchExplanation,
  type ReportTriage,
  type TriageExplainArgs,
  type TextSink,
} from './explain.js';
