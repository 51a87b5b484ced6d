/**
 * Triage: decides what happens to a stored report before any agent sees it.
 * prefilter (soft pattern signals) → classifier (separate model call, fails closed) →
 * policy (run | needs_review | reject); wrap builds the only form in which report text
 * reaches a model; batch groups similar reports of one App.
 */
export { ReportContent, ConsoleLine, PageInfo, ReporterInfo, NetworkEntry, Breadcrumb, EnvironmentInfo } from './report-content.js';
export { normalizeForMatching, normalizeWithOrigin } from './normalize.js';
export { parseInjectionRules, defaultInjectionRules } from './injection-rules.js';
export { prefilterReport, scannableText, signalledConsoleLines, type Signal } from './prefilter.js';
export { classifyReport, buildClassifierRequest, defaultClassifierPrompt, TriageLabel, TRIAGE_LABELS, type ClassifierResult } from './classifier.js';
export { wrapReport, encodeJson, createNonce, removeTagNameVariants, openingTag, closingTag, WRAPPER_TAG } from './wrap.js';
export { CONSOLE_MESSAGE_BYTES, truncateUtf8, capConsoleLine, capReportFields, PAGE_URL_BYTES, USER_AGENT_BYTES, REPORTER_VALUE_BYTES } from './report-caps.js';
export { wrapReportWithinBudget, CLASSIFIER_INPUT_BYTES } from './input-budget.js';
export { buildAgentPrompt, AGENT_SYSTEM } from './agent-prompt.js';
export {
  fingerprint,
  similarity,
  findBatch,
  summarizeBatch,
  summaryTextAfterJoin,
  sanitizeExcerpt,
  EXCERPT_WITHHELD,
  normalizeErrorLine,
  DEFAULT_BATCH_WINDOW_MS,
  type Fingerprint,
  type OpenBatch,
  type BatchMember,
} from './batch.js';
export { decide, type TriageDecision } from './policy.js';
export { explainReport, runTriageExplain } from './explain.js';
