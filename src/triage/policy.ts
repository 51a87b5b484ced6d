import type { ClassifierResult } from './classifier.js';
import type { Signal } from './prefilter.js';

export type TriageAction = 'run' | 'needs_review' | 'reject';

export interface TriageDecision {
  action: TriageAction;
  /** Machine-readable: a label (`spam`), `benign`, `prefilter_signals`, or `classifier_<cause>`. */
  reason: string;
}

/**
 * Confidence at or above which a `malicious_injection` label, backed by prefilter signals
 * at or above the threshold, rejects outright.
 */
export const CONFIDENT_INJECTION = 0.9;

export interface DecideInput {
  signals: readonly Signal[];
  /** null when no classifier ran (no model configured): a run then needs a person. */
  classification: ClassifierResult | null;
  threshold: number;
}

/**
 * Only a `benign` label with prefilter signals summing under the threshold starts a run.
 *
 * `malicious_injection` is held for review, and rejected only when two independent checks
 * agree: the classifier is confident (>= CONFIDENT_INJECTION) and the prefilter signals
 * reach the threshold. Holding by default because real bug reports for products that
 * themselves use language models quote prompts and attack text, and a silent reject would
 * lose them; rejecting the agreed cases keeps a flood of obvious attacks out of the
 * review queue. Either way no run starts.
 */
export function decide({ signals, classification, threshold }: DecideInput): TriageDecision {
  const signalScore = signals.reduce((sum, s) => sum + s.score, 0);
  const overThreshold = signalScore >= threshold;
  if (classification === null) return { action: 'needs_review', reason: 'classifier_unavailable' };
  if (classification.status === 'needs_review') return { action: 'needs_review', reason: `classifier_${classification.cause}` };
  const { label, confidence } = classification.classification;
  switch (label) {
    case 'benign':
      return overThreshold ? { action: 'needs_review', reason: 'prefilter_signals' } : { action: 'run', reason: 'benign' };
    case 'spam':
    case 'abuse':
    case 'off_topic':
      return { action: 'reject', reason: label };
    case 'malicious_injection':
      return confidence >= CONFIDENT_INJECTION && overThreshold
        ? { action: 'reject', reason: 'malicious_injection' }
        : { action: 'needs_review', reason: 'malicious_injection' };
  }
}
