import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { prefilterReport, ReportContent } from '../../src/triage/index.js';

const corpus = readFileSync(new URL('../fixtures/triage/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { id: string; label: string; text: string; console?: unknown });

const flagged = (row: (typeof corpus)[number]): boolean => {
  const r = prefilterReport(ReportContent.parse({ text: row.text, console: row.console }));
  return r.score >= r.threshold;
};

describe('labelled triage corpus', () => {
  it('holds at least 20 reports for every label, each a valid report', () => {
    for (const label of ['benign', 'spam', 'malicious_injection', 'abuse', 'off_topic']) {
      expect(corpus.filter((r) => r.label === label).length).toBeGreaterThanOrEqual(20);
    }
    for (const row of corpus) expect(ReportContent.safeParse({ text: row.text, console: row.console }).success).toBe(true);
  });

  it('keeps every benign report under the prefilter threshold, including those that say system, ignore or instructions', () => {
    expect(corpus.filter((r) => r.label === 'benign' && flagged(r)).map((r) => r.id)).toEqual([]);
  });

  it('flags at least 80% of the injection reports', () => {
    const injections = corpus.filter((r) => r.label === 'malicious_injection');
    expect(injections.filter(flagged).length / injections.length).toBeGreaterThanOrEqual(0.8);
  });
});
