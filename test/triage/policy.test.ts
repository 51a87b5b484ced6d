import { describe, expect, it } from '@jest/globals';
import { decide, type ClassifierResult, type Signal } from '../../src/triage/index.js';

const classified = (label: string, confidence = 0.95): ClassifierResult =>
  ({ status: 'classified', classification: { label, confidence, reason: 'r' }, model: 'm' }) as ClassifierResult;
const sig = (score: number): Signal[] => (score === 0 ? [] : [{ id: 's', score, count: 1 }]);
const THRESHOLD = 1;

describe('decide', () => {
  it('starts a run only for a benign report with signals under the threshold', () => {
    expect(decide({ signals: sig(0.9), classification: classified('benign'), threshold: THRESHOLD })).toEqual({ action: 'run', reason: 'benign' });
  });

  it('holds a benign report whose signals reach the threshold', () => {
    expect(decide({ signals: [...sig(0.5), ...sig(0.5)], classification: classified('benign'), threshold: THRESHOLD })).toEqual({
      action: 'needs_review',
      reason: 'prefilter_signals',
    });
  });

  it.each(['spam', 'abuse', 'off_topic'])('rejects %s with the label as reason', (label) => {
    expect(decide({ signals: [], classification: classified(label), threshold: THRESHOLD })).toEqual({ action: 'reject', reason: label });
  });

  it('holds malicious_injection for review unless the classifier is confident and the prefilter agrees', () => {
    expect(decide({ signals: [], classification: classified('malicious_injection', 0.99), threshold: THRESHOLD }).action).toBe('needs_review');
    expect(decide({ signals: sig(2), classification: classified('malicious_injection', 0.6), threshold: THRESHOLD }).action).toBe('needs_review');
    expect(decide({ signals: sig(2), classification: classified('malicious_injection', 0.95), threshold: THRESHOLD })).toEqual({
      action: 'reject',
      reason: 'malicious_injection',
    });
  });

  it.each(['timeout', 'refusal', 'invalid_json', 'schema_invalid', 'model_error', 'truncated'] as const)(
    'holds for review when the classifier failed with %s, even with no signals',
    (cause) => {
      expect(decide({ signals: [], classification: { status: 'needs_review', cause, detail: 'd' }, threshold: THRESHOLD })).toEqual({
        action: 'needs_review',
        reason: `classifier_${cause}`,
      });
    },
  );

  it('holds for review when no classifier ran', () => {
    expect(decide({ signals: [], classification: null, threshold: THRESHOLD })).toEqual({ action: 'needs_review', reason: 'classifier_unavailable' });
  });
});
